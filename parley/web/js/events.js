// A space's event socket that survives network drops: it reconnects by itself with `since=` the
// last sequence number it handed on, so no event is lost or repeated, and it notices a gap (which
// the server never leaves) by reconnecting from the last good event.
//
//   const feed = spaceEvents({ spaceId, token, onMessage, onStatus, onFinal });
//   onMessage(message): each snapshot and event, in order ({type: "snapshot", seq, data} first);
//                       the audience gets {type: "listener_count", seq, data: {listener_count}}
//                       in place of listeners' joins and departures in a rush.
//   onStatus(status):   "connecting" | "live" | "reconnecting" | "offline".
//   onFinal(code, reason): the server closed for good (4002 over, 4003 removed, 4401, 4404,
//                       4429 too many sockets). With 4401 the reason says why: session_revoked,
//                       session_expired, account_suspended, account_deactivated, invalid_token.
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

export function spaceEvents(options) {
  return new EventFeed(options);
}

// The socket's state lives here; each method is one step of its life (open, deliver, retry,
// offline and back), so the reconnection rules read one at a time.
class EventFeed {
  constructor({ spaceId, token, onMessage, onStatus = () => {}, onFinal = () => {}, beforeResume = null, apiBase = "/api/v1" }) {
    Object.assign(this, { spaceId, token, onMessage, onStatus, onFinal, beforeResume, apiBase });
    this.lastSeq = null;
    this.socket = null;
    this.closed = false;
    this.retryTimer = null;
    this.attempts = 0;
    this.opening = 0; // the latest open(); an older one still waiting on beforeResume gives way
    this.wentOffline = this.wentOffline.bind(this);
    this.cameOnline = this.cameOnline.bind(this);
    window.addEventListener("offline", this.wentOffline);
    window.addEventListener("online", this.cameOnline);
    this.open();
  }

  // Opens a new socket now, resuming after the last event (e.g. once we rejoined the space).
  reconnect() {
    if (this.closed) return;
    this.attempts = 0;
    this.open();
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    window.removeEventListener("offline", this.wentOffline);
    window.removeEventListener("online", this.cameOnline);
    this.detach();
  }

  detach() {
    const socket = this.socket;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // already closing
    }
    this.socket = null;
  }

  async open() {
    clearTimeout(this.retryTimer);
    if (this.closed) return;
    this.detach();
    const attempt = ++this.opening;
    const resuming = this.lastSeq !== null;
    this.onStatus(resuming ? "reconnecting" : "connecting");
    if (resuming && this.beforeResume) {
      try {
        await this.beforeResume();
      } catch {
        // the socket's own answer (a close code) says what is wrong, if anything
      }
      if (this.closed || attempt !== this.opening) return;
    }
    debug("open", { since: this.lastSeq, online: navigator.onLine });
    const ws = openEventSocket({ spaceId: this.spaceId, token: this.token, since: this.lastSeq, apiBase: this.apiBase });
    this.socket = ws;
    ws.onopen = () => {
      debug("opened");
      this.attempts = 0;
      this.onStatus("live");
    };
    ws.onmessage = (event) => this.received(ws, event);
    ws.onclose = (event) => this.closedBy(ws, event);
  }

  received(ws, event) {
    let parsed;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (this.socket !== ws) return; // replaced while handling this frame
      this.deliver(message);
    }
  }

  closedBy(ws, event) {
    debug("closed", event.code, this.socket === ws);
    if (this.socket !== ws || this.closed) return;
    this.socket = null;
    if (FINAL_CLOSE_CODES.has(event.code)) {
      this.closed = true;
      this.onFinal(event.code, event.reason);
      return;
    }
    this.retry();
  }

  deliver(message) {
    if (message.type !== "active_speakers") debug("message", message.type, message.seq, message.data?.handle, message.data?.reason);
    if (message.type === "snapshot") {
      this.lastSeq = message.seq;
      this.onMessage(message);
      return;
    }
    if (message.type === "listener_count") {
      // Stands for listeners' comings and goings up to its seq, sent to the audience instead of
      // each of them: a jump, never a gap.
      if (typeof message.seq === "number" && (this.lastSeq === null || message.seq > this.lastSeq)) {
        this.lastSeq = message.seq;
        this.onMessage(message);
      }
      return;
    }
    if (typeof message.seq !== "number") {
      this.onMessage(message); // {type: "resync"} or {type: "error"}: the close that follows decides
      return;
    }
    const last = this.lastSeq;
    if (last !== null && message.seq <= last) return; // already had it
    if (last !== null && message.seq > last + 1) {
      // A gap: never expected, but never papered over either. Ask again from the last good one.
      this.detach();
      this.retry(0);
      return;
    }
    this.lastSeq = message.seq;
    this.onMessage(message);
  }

  retry(delay) {
    debug("retry", { delay, attempts: this.attempts, online: navigator.onLine });
    clearTimeout(this.retryTimer);
    if (this.closed) return;
    if (!navigator.onLine) {
      this.onStatus("offline"); // the "online" event reopens, or the watch below
      this.watchForNetwork();
      return;
    }
    this.onStatus("reconnecting");
    const wait = delay ?? Math.min(250 * 2 ** this.attempts, 5000);
    this.attempts += 1;
    this.retryTimer = setTimeout(() => this.open(), wait);
  }

  // A socket can outlive the network for minutes without noticing; don't trust it. Drop it when
  // the browser says it is offline and resume from the last event when it is back.
  wentOffline() {
    debug("offline");
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.opening += 1; // an open() waiting on beforeResume gives way
    this.detach();
    this.onStatus("offline");
    this.watchForNetwork();
  }

  // The "online" event is not always delivered (and navigator.onLine can be wrong either way):
  // look every second, and try anyway every few seconds.
  watchForNetwork() {
    const since = Date.now();
    clearTimeout(this.retryTimer);
    const look = () => {
      if (this.closed || this.socket) return;
      if (navigator.onLine || Date.now() - since > 5000) this.cameOnline();
      else this.retryTimer = setTimeout(look, 1000);
    };
    this.retryTimer = setTimeout(look, 1000);
  }

  cameOnline() {
    debug("online");
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.attempts = 0;
    this.open();
  }
}
