// The room's two connections: the event socket (events.js), which resumes with `since=` after a
// drop, and live audio (media.js's liveAudio), which follows our role on and off the stage.
import { post } from "../api.js";
import { spaceEvents } from "../events.js";
import { liveAudio } from "../media.js";
import { announce } from "../ui.js";
import { ended, removed, signedOut, tooManyOpen } from "./exits.js";
import { showSound } from "./lock-screen.js";
import { apply } from "./updates.js";

const CONNECTION_TEXT = { connecting: "Connecting…", live: "Connected", reconnecting: "Reconnecting…", offline: "Offline: waiting for the network" };
// Close codes after which the socket does not come back (events.js), and what each means here.
const FINAL = { 4002: ended, 4003: removed, 4401: signedOut, 4429: tooManyOpen };
// Data saver: a listener hears the space by HLS instead of WebRTC; remembered on this browser.
const DATA_SAVER_KEY = "parley.dataSaver";

function dataSaverOn() {
  try {
    return localStorage.getItem(DATA_SAVER_KEY) === "1";
  } catch {
    return false; // storage refused (privacy mode): WebRTC, the default
  }
}

function followDataSaver(room) {
  const box = room.view.dataSaver;
  box.checked = dataSaverOn();
  box.addEventListener("change", () => {
    try {
      localStorage.setItem(DATA_SAVER_KEY, box.checked ? "1" : "0");
    } catch {
      // not remembered, but still applied to this visit
    }
    room.audio.reconnect();
  });
}

function openFeed(room) {
  const { connection } = room.view;
  let dropped = false;
  return spaceEvents({
    spaceId: room.spaceId,
    token: room.session.token,
    onMessage: (message) => apply(room, message),
    onStatus(status) {
      connection.textContent = CONNECTION_TEXT[status] || status;
      connection.dataset.state = status;
      if (status === "reconnecting" || status === "offline") dropped = true;
      // Back after a drop: the node we were on may be gone (its spaces move to other nodes),
      // and our audio with it, long before the browser calls the connection failed. Offering
      // again costs one request; the old connection is closed once the new one is up.
      if (status === "live" && dropped && room.audio) {
        dropped = false;
        room.audio.reconnect();
      }
    },
    async beforeResume() {
      if (room.leaving || room.over) return;
      room.people.set(room.me.id, await post(room.path("/join"))); // nothing happens if still in
    },
    onFinal(code, reason) {
      (FINAL[code] || ended)(room, reason);
    },
  });
}

function openAudio(room) {
  return liveAudio({
    spaceId: room.spaceId,
    token: room.session.token,
    accountId: room.me.id,
    audio: room.view.player,
    socket: false,
    useHls: () => room.view.dataSaver.checked,
    onLost() {
      room.view.audioLost.hidden = false;
    },
    onChange({ connection: c }) {
      room.view.audioLost.hidden = true;
      const note = room.view.cappedNote;
      if (c.capped && note.hidden) announce(note.textContent);
      note.hidden = !c.capped;
      c.audio
        .play()
        .then(() => showSound(room))
        .catch(() => setTimeout(() => showSound(room), 1000));
    },
    onError(error) {
      if (error?.status === 403 || error?.status === 409) return; // not (or no longer) in the space: events decide
      console.warn("parley media:", error);
    },
  });
}

export function connect(room) {
  room.feed = openFeed(room);
  room.audio = openAudio(room);
  followDataSaver(room);
}
