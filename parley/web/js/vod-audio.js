// A recording's VOD playlist in an <audio> element: hls.js (vendored, pinned; see hls-audio.js)
// through MediaSource, or the browser's own HLS (Safari). Recordings of public spaces need no
// sign-in; a session's token goes along when there is one (a removed listener is refused).

const HLS_JS = "/vendor/hls.js/dist/hls.light.min.mjs";
const NATIVE_HLS = "application/vnd.apple.mpegurl";

// Resolves with { audio, destroy() } once the playlist is attached.
export async function attachVod(audio, url, token = null) {
  let Hls = null;
  try {
    Hls = (await import(HLS_JS)).default;
  } catch {
    Hls = null; // not fetched by setup: native HLS only
  }
  if (Hls?.isSupported()) {
    const hls = new Hls({
      enableWorker: false, // a worker would need `worker-src blob:` in the CSP
      xhrSetup: token ? (xhr) => xhr.setRequestHeader("authorization", `Bearer ${token}`) : undefined,
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(url);
    hls.attachMedia(audio);
    return { audio, destroy: () => hls.destroy() };
  }
  if (audio.canPlayType(NATIVE_HLS)) {
    audio.src = url;
    return { audio, destroy: () => audio.removeAttribute("src") };
  }
  throw new Error("This browser cannot play HLS, and hls.js is not installed (make setup)");
}
