// A space's event socket that survives network drops: it reconnects by itself with `since=` the
// last sequence number it handed on, so no event is lost or repeated, and it notices a gap (which
// the server never leaves) by reconnecting from the last good event.
//
//   const feed = spaceEvents({ spaceId, token, onMessage, onStatus, onFinal });
//   onMessage(message): each snapshot and event, in order ({type: "snapshot", seq, data} first).
//   onStatus(status):   "connecting" | "live" | "reconnecting" | "offline".
//   onFinal(code, reason): the server closed for good (4002 over, 4003 removed, 4401, 4404,
//                       4429 too many sockets). With 4401 the reason says why: session_revoked,
//                       session_expired, account_suspended, invalid_token.
//   beforeResume():     awaited before each reconnect (not the first connection). The room uses
//                       it to make sure it is (still, or again) in the space before the socket
//                       opens: the server counts a socket towards presence only if it opens while
//                       the account is in the space.

const FINAL_CLOSE_CODES = new Set([4002, 4003, 4401, 4404, 4429]);

// Opens a space's event socket and authenticates it with its first message. The token is never
// put in the URL, where proxies and server logs would keep it.
export function openEventSocket({ spaceId, token, since = null, apiBase = "/api/v1" }) {
  const base = new URL(apiBase, location.href);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  const target = new URL(`${base.href.replace(/\/$/, "")}/spaces/${encodeURIComponent(spaceId)}/events`);
  if (since !== null) target.searchParams.set("since", String(since));
  const ws = new WebSocket(target);
  ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", token })), { once: true });
  return ws;
}

// localStorage["parley.debug"] = "1" logs what the socket does to the console.
function debug(...args) {
  try {
    if (localStorage.getItem("parley.debug")) console.debug("[parley events]", Math.round(performance.now()), ...args);
  } catch {
    // storage unavailable: no logging
  }
}

export function spaceEvents({ spaceId, token, onMessage, onStatus = () => {}, onFinal = () => {}, beforeResume = null, apiBase = "/api/v1" }) {
  let lastSeq = null;
  let socket = null;
  let closed = false;
  let retryTimer = null;
  let attempts = 0;
  let opening = 0; // the latest open(); an older one still waiting on beforeResume gives way

  function detach() {
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // already closing
    }
    socket = null;
  }

  async function open() {
    clearTimeout(retryTimer);
    if (closed) return;
    detach();
    const attempt = ++opening;
    const resuming = lastSeq !== null;
    onStatus(resuming ? "reconnecting" : "connecting");
    if (resuming && beforeResume) {
      try {
        await beforeResume();
      } catch {
        // the socket's own answer (a close code) says what is wrong, if anything
      }
      if (closed || attempt !== opening) return;
    }
    debug("open", { since: lastSeq, online: navigator.onLine });
    const ws = openEventSocket({ spaceId, token, since: lastSeq, apiBase });
    socket = ws;
    ws.onopen = () => {
      debug("opened");
      attempts = 0;
      onStatus("live");
    };
    ws.onmessage = (event) => {
      let parsed;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return;
      }
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        if (socket !== ws) return; // replaced while handling this frame
        deliver(message);
      }
    };
    ws.onclose = (event) => {
      debug("closed", event.code, socket === ws);
      if (socket !== ws || closed) return;
      socket = null;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        closed = true;
        onFinal(event.code, event.reason);
        return;
      }
      retry();
    };
  }

  function deliver(message) {
    if (message.type !== "active_speakers") debug("message", message.type, message.seq, message.data?.handle, message.data?.reason);
    if (message.type === "snapshot") {
      lastSeq = message.seq;
      onMessage(message);
      return;
    }
    if (typeof message.seq !== "number") {
      onMessage(message); // {type: "resync"} or {type: "error"}: the close that follows decides
      return;
    }
    if (lastSeq !== null && message.seq <= lastSeq) return; // already had it
    if (lastSeq !== null && message.seq > lastSeq + 1) {
      // A gap: never expected, but never papered over either. Ask again from the last good one.
      detach();
      retry(0);
      return;
    }
    lastSeq = message.seq;
    onMessage(message);
  }

  function retry(delay) {
    debug("retry", { delay, attempts, online: navigator.onLine });
    clearTimeout(retryTimer);
    if (closed) return;
    if (!navigator.onLine) {
      onStatus("offline"); // the "online" event reopens, or the watch below
      watchForNetwork();
      return;
    }
    onStatus("reconnecting");
    const wait = delay ?? Math.min(250 * 2 ** attempts, 5000);
    attempts += 1;
    retryTimer = setTimeout(open, wait);
  }

  // A socket can outlive the network for minutes without noticing; don't trust it. Drop it when
  // the browser says it is offline and resume from the last event when it is back.
  function wentOffline() {
    debug("offline");
    if (closed) return;
    clearTimeout(retryTimer);
    opening += 1; // an open() waiting on beforeResume gives way
    detach();
    onStatus("offline");
    watchForNetwork();
  }

  // The "online" event is not always delivered (and navigator.onLine can be wrong either way):
  // look every second, and try anyway every few seconds.
  function watchForNetwork() {
    const since = Date.now();
    clearTimeout(retryTimer);
    const look = () => {
      if (closed || socket) return;
      if (navigator.onLine || Date.now() - since > 5000) cameOnline();
      else retryTimer = setTimeout(look, 1000);
    };
    retryTimer = setTimeout(look, 1000);
  }
  function cameOnline() {
    debug("online");
    if (closed) return;
    clearTimeout(retryTimer);
    attempts = 0;
    open();
  }
  window.addEventListener("offline", wentOffline);
  window.addEventListener("online", cameOnline);

  open();
  return {
    get lastSeq() {
      return lastSeq;
    },
    // Opens a new socket now, resuming after the last event (e.g. once we rejoined the space).
    reconnect() {
      if (closed) return;
      attempts = 0;
      open();
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      window.removeEventListener("offline", wentOffline);
      window.removeEventListener("online", cameOnline);
      detach();
    },
  };
}
