// Listening to a space by HLS (issue 10): the live playlist of GET /spaces/{id}/hls/live.m3u8,
// played in an <audio> element, instead of a WebRTC connection. For listeners only: the stage
// always talks over WebRTC.
//
// hls.js (pinned, fetched by `make setup` into /vendor/hls.js/) plays it through MediaSource,
// and sends the session token when there is one (the server then also refuses someone removed
// from the space). No token is needed: every space's HLS is public, which is what lets the
// share page play signed out, and the browser's own HLS (Safari), which cannot add a header,
// play where MediaSource is missing. hls.js is only loaded when someone listens by HLS.

const HLS_JS = "/vendor/hls.js/dist/hls.light.min.mjs";
const NATIVE_HLS = "application/vnd.apple.mpegurl";

// Resolves with a connection shaped like media.js's (send: false, close(), setMicEnabled()),
// marked `hls: true`, once the player is attached; audio follows as segments arrive.
//   token:  the session's, or null signed out.
//   onGone: called with the problem code when the server says the space is gone for good (410,
//           taken down by moderation); playing stops. Other failures are retried.
export async function connectHls({ spaceId, token, apiBase = "/api/v1", audio = null, onGone = () => {} }) {
  const url = `${apiBase}/spaces/${encodeURIComponent(spaceId)}/hls/live.m3u8`;
  const player = audio || new Audio();
  player.srcObject = null;
  player.autoplay = true;
  const Hls = await loadHlsJs();
  if (!Hls?.isSupported() && player.canPlayType(NATIVE_HLS)) return nativeHls(player, url);
  if (!Hls) throw new Error("hls.js is not installed (make setup) and this browser has no HLS");
  const hls = new Hls({
    // No worker: a worker of hls.js's own would need `worker-src blob:` in the CSP, and
    // demuxing one audio stream on the page is cheap.
    enableWorker: false,
    // LL-HLS when the server lists parts (PARLEY_HLS_PART_SECONDS): blocking playlist reloads
    // and half-second parts keep a listener about two seconds behind instead of six.
    lowLatencyMode: true,
    xhrSetup: (xhr) => token && xhr.setRequestHeader("authorization", `Bearer ${token}`),
  });
  let stopped = false;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.response?.code === 410) {
      stopped = true;
      hls.destroy();
      onGone("space_removed");
    } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else setTimeout(() => stopped || hls.loadSource(url), 2000); // not started yet, or a network hiccup
  });
  hls.loadSource(url);
  hls.attachMedia(player);
  player.play().catch(() => {}); // autoplay may wait for a user gesture
  const connection = hlsConnection(player, () => {
    stopped = true;
    hls.destroy();
  });
  // Seconds behind the live edge of the playlist (hls.js's estimate), for tests and curious eyes.
  Object.defineProperty(connection, "latency", { get: () => hls.latency });
  // Whether hls.js plays LL-HLS: the playlist lists parts and the server blocks reloads.
  Object.defineProperty(connection, "lowLatency", {
    get: () => {
      const details = hls.levels?.[hls.currentLevel]?.details || hls.levels?.[0]?.details;
      return !!(details?.canBlockReload && details?.partList?.length);
    },
  });
  return connection;
}

function nativeHls(player, url) {
  player.src = url;
  player.play().catch(() => {});
  return hlsConnection(player, () => {
    player.removeAttribute("src");
    player.load();
  });
}

function hlsConnection(player, stop) {
  return {
    hls: true,
    pc: null,
    send: false,
    remoteStream: null,
    audio: player,
    micTrack: null,
    setMicEnabled() {},
    close: stop,
  };
}

async function loadHlsJs() {
  try {
    return (await import(HLS_JS)).default;
  } catch {
    return null; // not fetched by setup: only native HLS, if any
  }
}
