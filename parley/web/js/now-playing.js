// What this page plays, told to the device's own media controls through the Media Session API:
// the lock screen, the notification shade, headset and keyboard media keys, the browser's media
// hub. People listen to a space with the screen off; these controls are what they have then.
// Browsers without the API are left alone, as are actions one of them does not know.

const ARTWORK = [{ src: "/icon-512.png", sizes: "512x512", type: "image/png" }];
const ACTIONS = ["play", "pause", "stop", "seekbackward", "seekforward", "seekto", "togglemicrophone", "hangup"];
const media = typeof navigator !== "undefined" && "mediaSession" in navigator ? navigator.mediaSession : null;

// Says what is playing; changes nothing when it is already said (the room redraws often).
export function nowPlaying({ title, artist, album }) {
  if (!media || typeof MediaMetadata === "undefined") return;
  const shown = media.metadata;
  if (shown && shown.title === title && shown.artist === artist && shown.album === album) return;
  media.metadata = new MediaMetadata({ title, artist, album, artwork: ARTWORK });
}

// "playing", "paused" or "none": what the controls offer (pause, or play).
export function playbackState(state) {
  if (media) media.playbackState = state;
}

// {action: handler or null}: null takes the action away from the controls.
export function onActions(handlers) {
  if (!media) return;
  for (const [action, handler] of Object.entries(handlers)) {
    try {
      media.setActionHandler(action, handler);
    } catch {
      // this browser does not know the action
    }
  }
}

export function microphoneActive(active) {
  media?.setMicrophoneActive?.(active);
}

// Where a replay is, so the controls draw their bar and seek within it.
export function positionState({ duration, position, playbackRate }) {
  if (!media?.setPositionState || !(duration > 0)) return;
  try {
    media.setPositionState({ duration, playbackRate, position: Math.min(Math.max(position, 0), duration) });
  } catch {
    // a rate or position the browser refuses: the bar is left as it was
  }
}

// Nothing plays any more: the controls go away.
export function stopPlaying() {
  if (!media) return;
  media.metadata = null;
  media.playbackState = "none";
  onActions(Object.fromEntries(ACTIONS.map((action) => [action, null])));
}
