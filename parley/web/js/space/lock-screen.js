// The room on the device's own media controls (now-playing.js): the space and its host as what
// is playing; pause and play turn the sound off and on on this device only (the space goes on
// without waiting, and play is live again at once: nothing was buffered behind); the mic for
// whoever may unmute; hang up leaves, as the Leave button does (never End: a headset button must
// not end a space for everyone).
import { microphoneActive, nowPlaying, onActions, playbackState } from "../now-playing.js";
import { may } from "../permissions.js";
import { announce } from "../ui.js";
import { setMyMic } from "./controls.js";
import { leave } from "./exits.js";

export function pauseSound(room) {
  const { player, soundButton } = room.view;
  player.muted = true;
  soundButton.hidden = false;
  playbackState("paused");
  announce("Sound paused on this device");
}

// Resolves once the sound plays; rejects when the browser wants a tap first (autoplay).
export async function resumeSound(room) {
  const { player, soundButton } = room.view;
  player.muted = false;
  await player.play();
  soundButton.hidden = true;
  playbackState("playing");
}

export function followLockScreen(room) {
  playbackState("playing");
  onActions({
    pause: () => pauseSound(room),
    play: () => resumeSound(room).catch(() => {}),
  });
}

function fail(error) {
  announce(error.message || String(error), { assertive: true });
}

export function drawLockScreen(room) {
  if (room.over) return;
  const { space } = room;
  nowPlaying({ title: space.title, artist: space.host.display_name || `@${space.host.handle}`, album: "Parley · Live" });
  const role = room.myRole();
  const mic = may(role, "unmute");
  const signature = `${role}|${mic && room.mine()?.muted}`;
  if (room.lockScreen === signature) return;
  room.lockScreen = signature;
  onActions({
    togglemicrophone: mic ? () => setMyMic(room, room.mine()?.muted !== false).catch(fail) : null,
    hangup: may(role, "leave") ? () => leave(room).catch(fail) : null,
  });
  microphoneActive(mic && room.mine()?.muted === false);
}
