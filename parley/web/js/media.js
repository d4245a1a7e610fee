// Live audio for a Parley space, in the browser. A plain ES module: import it as /js/media.js.
//
// One WebRTC connection per (space, account), negotiated with a single request:
// POST /api/v1/spaces/{id}/media {sdp, type: "offer"} -> {sdp, type: "answer", ice_servers}.
// There is no trickle ICE, so the offer is only sent once ICE gathering has finished.
// People on stage (host, cohost, speaker) send their mic and receive a mix without their own
// voice; listeners only receive, and a listener's connection never touches the microphone.
//
//   const audio = liveAudio({ spaceId, token, accountId });   // follows the role, see below
//   const media = await connectMedia({ spaceId, token, send: false });  // one connection

import { openEventSocket } from "./events.js";
import { connectHls } from "./hls-audio.js";
import { whenSilent } from "./media-watch.js";

const STAGE_ROLES = new Set(["host", "cohost", "speaker"]);

export function isStageRole(role) {
  return STAGE_ROLES.has(role);
}

// How long to wait for ICE gathering. Host candidates take milliseconds; an unreachable STUN or
// TURN server could stall gathering far longer, and the candidates found so far usually suffice.
const GATHERING_TIMEOUT_MS = 3000;

// The ICE servers, TURN with a short-lived credential of our own, come from
// GET /spaces/{id}/media before each connection (its candidates are gathered before the offer is
// sent, so the answer, which names them too, comes too late for it). The last ones known are
// the fallback when that request fails.
let knownIceServers = [];

export class MediaRequestError extends Error {
  // retryAfter: the response's Retry-After header (a rate limit, a busy or draining node).
  constructor(status, problem, retryAfter = null) {
    super(problem?.title || `media request failed with status ${status}`);
    this.status = status;
    this.code = problem?.code;
    this.problem = problem;
    const seconds = Number(retryAfter);
    this.retryAfterMs = retryAfter !== null && seconds >= 0 ? seconds * 1000 : 0;
  }
}

// Opens one media connection. Resolves once the server's answer is applied (audio may take a
// moment longer to flow); rejects with a MediaRequestError if the server refuses.
//   send:  take the mic and send it (stage); otherwise receive only (audience).
//   audio: an <audio> element to play the received audio in; one is created when omitted. Chrome
//          also needs remote WebRTC audio attached to a media element (even a muted one) before
//          Web Audio gets any samples from it.
export async function connectMedia({
  spaceId,
  token,
  send = false,
  apiBase = "/api/v1",
  iceServers = null,
  audio = null,
}) {
  const servers = iceServers || (await fetchIceServers(apiBase, spaceId, token));
  const pc = new RTCPeerConnection({ iceServers: servers });
  let mic = null;
  let transceiver;
  try {
    if (send) {
      mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      transceiver = pc.addTransceiver(mic.getAudioTracks()[0], {
        direction: "sendrecv",
        streams: [mic],
      });
    } else {
      transceiver = pc.addTransceiver("audio", { direction: "recvonly" });
    }
    // The receiver's track exists from the start and carries whatever the server sends, so the
    // stream can be handed out (and played) before the first packet arrives.
    const remoteStream = new MediaStream([transceiver.receiver.track]);
    const player = audio || new Audio();
    player.autoplay = true;
    player.srcObject = remoteStream;
    player.play().catch(() => {}); // autoplay may be refused until a user gesture; autoplay retries

    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const response = await fetch(`${apiBase}/spaces/${encodeURIComponent(spaceId)}/media`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new MediaRequestError(response.status, body, response.headers.get("retry-after"));
    }
    await pc.setRemoteDescription({ type: "answer", sdp: body.sdp });
    if (Array.isArray(body.ice_servers)) knownIceServers = body.ice_servers;

    return {
      pc,
      send,
      remoteStream,
      audio: player,
      micTrack: mic ? mic.getAudioTracks()[0] : null,
      // Stops (or resumes) sending the mic without renegotiating: a disabled track sends silence.
      // The server enforces mutes on its own; this keeps the client honest with what it shows.
      setMicEnabled(on) {
        if (mic) mic.getAudioTracks()[0].enabled = on;
      },
      close() {
        closeConnection(pc, mic);
        if (player.srcObject === remoteStream) player.srcObject = null;
      },
    };
  } catch (error) {
    closeConnection(pc, mic);
    throw error;
  }
}

async function fetchIceServers(apiBase, spaceId, token) {
  try {
    const response = await fetch(`${apiBase}/spaces/${encodeURIComponent(spaceId)}/media`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = response.ok ? await response.json() : null;
    if (Array.isArray(body?.ice_servers)) knownIceServers = body.ice_servers;
  } catch {
    // Offline for a moment: the offer will say so; gather with what we knew.
  }
  return knownIceServers;
}

function closeConnection(pc, mic) {
  if (mic) for (const track of mic.getTracks()) track.stop(); // turns the mic light off
  pc.close();
}

function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    const timer = setTimeout(done, GATHERING_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// A media connection "disconnected" this long is replaced; retries start after RETRY_FIRST_MS
// and back off to RETRY_MAX_MS.
const DISCONNECTED_GRACE_MS = 2000;
// A new connection not up within this long is taken for lost (one relayed through TURN is up in
// a few seconds): the node that answered may have gone away meanwhile, and the browser says
// "failed" only once its checks time out, half a minute later or more.
const CONNECT_WITHIN_MS = 15000;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5000;

// Event socket close codes after which reconnecting is pointless (see README): the space is
// over, we were removed, not signed in or suspended, no such space.
const FINAL_CLOSE_CODES = new Set([4002, 4003, 4401, 4404, 4429]);

// Keeps the right media connection open for the signed-in account while it is in the space:
// receive-only in the audience, send-and-receive on stage. It watches the space's event socket
// and, when our role crosses between audience and stage, makes a new connection (the server
// replaces the old one) without reloading the page.
//   accountId:   the signed-in account, to recognise events about us.
//   followMic:   mirror our mic state (mic_changed) onto the mic track. Mutes are enforced by the
//                server either way.
//   onChange:    called with ({connection, role, muted}) after each new connection.
//   onError:     called with errors from connecting (e.g. a 403 when we have not joined).
//   onLost:      called when the connection went away (a node gone, hung up) and the next one is
//                being made; `onChange` follows once it is.
//   socket:      open an event socket of its own (the default). A page that already follows the
//                space's events passes false and feeds each message to `handle(message)`.
//   useHls:      asked at each connection: true to hear the space by HLS (hls-audio.js) while in
//                the audience ("data saver"). The stage always uses WebRTC. After it changes its
//                answer, call `reconnect()`. A listener whose offer the server refuses because
//                the node has all the WebRTC listeners it serves (503 webrtc_listener_cap) hears
//                the space by HLS too: that connection is marked `capped: true`.
//   connectWithinMs: a WebRTC connection not connected this long after its answer is replaced.
// Returns {connection, role, muted, ready, close(), handle(message), reconnect()}; `ready`
// resolves with the first connection. `reconnect()` replaces the media connection even though
// the role did not change (after the account rejoined a space it had dropped out of).
export function liveAudio({
  spaceId,
  token,
  accountId,
  apiBase = "/api/v1",
  audio = null,
  followMic = true,
  onChange = () => {},
  onError = (error) => console.error("parley media:", error),
  onLost = () => {},
  socket: ownSocket = true,
  useHls = () => false,
  connectWithinMs = CONNECT_WITHIN_MS,
}) {
  const state = { connection: null, role: null, muted: true, close, handle, reconnect: () => applyRole(true) };
  let resolveReady;
  state.ready = new Promise((resolve) => (resolveReady = resolve));
  let closed = false;
  let socket = null; // our own event socket, when the caller does not feed us its messages
  const retry = backoff(() => applyRole(true)); // replacing a lost media connection
  const switching = oneAtATime(); // connections are made one after another, never in parallel

  function applyRole(force = false) {
    switching.run(async () => {
      const send = isStageRole(state.role);
      const hls = !send && useHls();
      if (closed || (force && state.role === null)) return;
      if (!force && state.connection && state.connection.send === send) return;
      try {
        const options = { spaceId, token, send, apiBase, audio };
        const next = await (hls ? connectHls(options) : connectMediaOrHls(options));
        if (closed) return next.close();
        const previous = state.connection;
        state.connection = next;
        if (followMic) next.setMicEnabled(!state.muted);
        // Close the old one only now, so the audio does not drop while the new one is set up.
        // Its srcObject was taken over by the new connection if they share an <audio> element.
        if (previous) previous.close();
        whenLost(next, () => replace(next), connectWithinMs); // a node gone: a new one
        retry.reset();
        onChange({ connection: next, role: state.role, muted: state.muted });
        resolveReady(next);
      } catch (error) {
        onError(error);
        const wait = waitBeforeOfferingAgain(error);
        if (wait !== null) retry.later(wait);
      }
    });
  }

  function replace(connection) {
    // Not while its successor is being made: the node closes the connection an offer replaces.
    if (state.connection !== connection || closed || switching.busy) return;
    state.connection = null;
    connection.close();
    onLost();
    retry.later();
  }

  function handle(message) {
    const mine = myPart(message, accountId);
    if (!mine) return;
    if (mine.role !== undefined) state.role = mine.role;
    if (typeof mine.muted === "boolean") state.muted = mine.muted;
    if (mine.role !== undefined) applyRole();
    else if (followMic && state.connection) state.connection.setMicEnabled(!state.muted);
  }

  function close() {
    closed = true;
    retry.cancel();
    if (socket) socket.close();
    if (state.connection) state.connection.close();
    state.connection = null;
  }

  // Our role comes from the socket's snapshot and events, never from the caller, so it is current.
  if (ownSocket) socket = followEvents({ spaceId, token, apiBase, handle, onFinal: close });
  return state;
}

// Calls `onLost` once the connection fails, stays "disconnected" DISCONNECTED_GRACE_MS (a dead
// node never answers again, and the browser calls that "failed" only after half a minute), is
// not connected `connectWithinMs` after it was made, the node closes it, or, once connected,
// nothing comes in on it any more (media-watch.js: a node gone, said sooner than the browser).
function whenLost(connection, onLost, connectWithinMs) {
  const pc = connection.pc;
  if (!pc) return; // HLS
  // A node that closes the connection (it drains, or lets the space go to another node) says
  // so at once in DTLS, but the browser goes on calling the connection "connected" until its
  // ICE checks go unanswered: 7 to 8 s in Chromium, then DISCONNECTED_GRACE_MS of silence more.
  // (Closed by us, it is no longer the connection in use, and onLost leaves it be.)
  const transport = pc.getReceivers()[0]?.transport;
  transport?.addEventListener("statechange", () => {
    if (transport.state === "closed" || transport.state === "failed") onLost();
  });
  let stalled = null;
  let watching = false; // from its first "connected" on
  const watch = () => {
    watching = true;
    whenSilent(pc, onLost);
  };
  if (pc.connectionState === "connected") watch();
  const connecting = watching ? null : setTimeout(onLost, connectWithinMs);
  pc.addEventListener("connectionstatechange", () => {
    clearTimeout(stalled);
    const now = pc.connectionState;
    if (now === "connected" || now === "closed") clearTimeout(connecting);
    if (now === "connected" && !watching) watch();
    if (now === "disconnected") stalled = setTimeout(onLost, DISCONNECTED_GRACE_MS);
    if (now === "failed") onLost();
  });
}

// Runs each task given to `run` once those before it are done; `busy` while one runs.
function oneAtATime() {
  let last = Promise.resolve();
  const queue = {
    busy: false,
    run(task) {
      last = last.then(async () => {
        queue.busy = true;
        try {
          await task();
        } finally {
          queue.busy = false;
        }
      }).catch((error) => console.error("parley media:", error)); // the next ones still run
    },
  };
  return queue;
}

// A refusal (4xx) is not made good by offering again: events decide (a role, a rejoin). Anything
// else is (the network, a node gone, 503, and too many offers: 429), not before the server said.
// The least wait in ms, or null for none.
function waitBeforeOfferingAgain(error) {
  if (!(error instanceof MediaRequestError)) return 0;
  if (error.status < 500 && error.status !== 429) return null;
  return error.retryAfterMs;
}

// Runs `attempt` later, each time a little later (up to RETRY_MAX_MS; never before `atLeast` ms)
// until `reset()`, which also calls off an attempt still to come.
function backoff(attempt) {
  let delay = RETRY_FIRST_MS;
  let timer = null;
  return {
    later(atLeast = 0) {
      clearTimeout(timer);
      timer = setTimeout(attempt, Math.max(delay, atLeast));
      delay = Math.min(2 * delay, RETRY_MAX_MS);
    },
    reset() {
      clearTimeout(timer); // what it was to make good is made
      delay = RETRY_FIRST_MS;
    },
    cancel() {
      clearTimeout(timer);
    },
  };
}

// A listener's WebRTC connection, or HLS when the node's WebRTC listener cap is reached.
async function connectMediaOrHls(options) {
  try {
    return await connectMedia(options);
  } catch (error) {
    if (options.send || error?.code !== "webrtc_listener_cap") throw error;
    return Object.assign(await connectHls(options), { capped: true });
  }
}

// What a space message says about this account: {role, muted} from the snapshot or a role
// change, {muted} from a mic change, or null when it is about someone else.
function myPart(message, accountId) {
  const data = message.data || {};
  if (message.type === "snapshot") {
    const me = (data.stage || []).find((p) => p.account_id === accountId);
    return { role: me ? me.role : "listener", muted: me ? me.muted : true };
  }
  if (data.account_id !== accountId) return null;
  if (message.type === "role_changed") return { role: data.role, muted: data.muted };
  if (message.type === "mic_changed") return { muted: data.muted };
  return null;
}

// An event socket of our own that resumes after the last event it saw when it drops (resync
// 4001, a dropped network), and gives up on a final close.
function followEvents({ spaceId, token, apiBase, handle, onFinal }) {
  let lastSeq = null;
  let socket = null;
  let retryTimer = null;
  let closed = false;
  function open() {
    socket = openEventSocket({ spaceId, token, since: lastSeq, apiBase });
    socket.onmessage = (event) => {
      const parsed = JSON.parse(event.data);
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        if (typeof message.seq === "number") lastSeq = message.seq;
        handle(message);
      }
    };
    socket.onclose = (event) => {
      if (closed) return;
      if (FINAL_CLOSE_CODES.has(event.code)) return onFinal();
      retryTimer = setTimeout(open, 1000);
    };
  }
  open();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      socket.close();
    },
  };
}
