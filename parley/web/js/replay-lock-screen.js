// A replay on the device's own media controls (now-playing.js): the space, its host, and a bar to
// seek on; play and pause come with the <audio> element, and these add skipping back and ahead,
// as podcast players do, and seeking to a point. The audio element stays the one source of truth:
// every control moves it, and the page's own controls follow its events.
import { nowPlaying, onActions, playbackState, positionState, stopPlaying } from "./now-playing.js";

const SKIP_SECONDS = 10;

// `space`: the space as GET /spaces/{id} gives it, for its host (null: "Parley" stands in).
// `jump(seconds)` moves the replay (replay.js's, which also moves the page's position slider).
// Returns what takes the controls away again.
export function followLockScreen(info, space, audio, jump) {
  const artist = space ? space.host.display_name || `@${space.host.handle}` : "Parley";
  nowPlaying({ title: info.title, artist, album: "Parley · Replay" });
  const where = () => positionState({ duration: info.duration_seconds, position: audio.currentTime, playbackRate: audio.playbackRate });
  const seek = (to) => {
    jump(to);
    where();
  };
  onActions({
    play: () => audio.play().catch(() => {}),
    pause: () => audio.pause(),
    seekbackward: (details) => seek(audio.currentTime - (details?.seekOffset || SKIP_SECONDS)),
    seekforward: (details) => seek(audio.currentTime + (details?.seekOffset || SKIP_SECONDS)),
    seekto: (details) => seek(details.seekTime),
  });
  const playing = () => {
    playbackState("playing");
    where();
  };
  const paused = () => playbackState("paused");
  audio.addEventListener("play", playing);
  audio.addEventListener("pause", paused);
  audio.addEventListener("ratechange", where);
  audio.addEventListener("seeked", where);
  return stopPlaying;
}
