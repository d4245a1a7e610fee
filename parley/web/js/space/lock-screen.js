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
  room.view.player.muted = true;
  showSound(room);
  announce("Sound paused on this device");
}

// Resolves once the sound plays; rejects when the browser wants a tap first (autoplay).
export async function resumeSound(room) {
  room.view.player.muted = false;
  try {
    await room.view.player.play();
  } finally {
    showSound(room);
  }
}

// The "Turn on sound" button and the lock screen say what the player does, read off the player
// whoever last touched it: a media connection replaced while play() was pending aborts that
// play() and starts its own, and the lock screen said "paused" over a room that played.
export function showSound(room) {
  const { player, soundButton } = room.view;
  const audible = !player.paused && !player.muted;
  soundButton.hidden = audible || room.over;
  if (!room.over) playbackState(audible ? "playing" : "paused");
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
