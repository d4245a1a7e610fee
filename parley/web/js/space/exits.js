// Ways out of the room: leaving, ending, the space ending, being removed or signed out, and
// being let go after a connection drop (which joins again unless we meant to leave).
import { ApiError, post, saveSession } from "../api.js";
import { stopPlaying } from "../now-playing.js";
import { announce, h } from "../ui.js";
import { log } from "./activity.js";
import { notice, renderOver } from "./common.js";

// Why a space's socket closed with 4401 (its reason), in words.
const SIGNED_OUT_BECAUSE = {
  session_revoked: "Your session ended: you signed out, changed your password or signed out everywhere, on this device or another.",
  session_expired: "Your session expired. Sign in again to come back.",
  account_suspended: "Your account was suspended. Signing in again tells you why and how to appeal.",
  account_deactivated: "Your account was deleted.",
  invalid_token: "Your session is no longer valid. Sign in again to come back.",
};

export function shutdown(room) {
  room.view?.release();
  room.feed?.close();
  room.audio?.close();
  room.feed = null;
  room.audio = null;
  stopPlaying();
  delete window.parleyRoom;
}

// Closes the room for good and puts `screen` (a notice) in its place. False if already closed.
function closeWith(room, screen, { forget = true } = {}) {
  if (room.over) return false;
  room.over = true;
  shutdown(room);
  if (forget) sessionStorage.removeItem(room.joinedKey);
  screen();
  room.main.querySelector("h1")?.focus();
  return true;
}

// `why`: the `space_ended` event's data (reason, message), when there was one.
export function ended(room, why = null) {
  closeWith(room, () => {
    announce("The space has ended");
    renderOver(room.main, { ...room.space, state: "ended" }, { reread: true, why });
  });
}

export function removed(room) {
  closeWith(room, () => {
    announce("You were removed from this space", { assertive: true });
    room.main.replaceChildren(notice("You were removed from this space", "A host removed you from this space, and you can't rejoin it. Other spaces are still open to you."));
  });
}

// The server closed the socket because the session is over: say why, and forget it here.
export function signedOut(room, reason) {
  closeWith(
    room,
    () => {
      saveSession(null);
      const why = SIGNED_OUT_BECAUSE[reason] || SIGNED_OUT_BECAUSE.session_revoked;
      announce(why, { assertive: true });
      room.main.replaceChildren(notice("You were signed out", why, h("p", {}, h("a", { href: "#/signin" }, "Sign in"))));
    },
    { forget: false },
  );
}

export function tooManyOpen(room) {
  closeWith(room, () => room.main.replaceChildren(notice("Too many open spaces", "Your account has too many spaces open at once. Close some tabs or windows, then reload this one.")), { forget: false });
}

export async function leave(room) {
  room.leaving = true;
  try {
    await post(room.path("/leave"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
  }
  // Gone elsewhere in the app while the leave was on its way (leaveOnNavigation closed the room):
  // that page is where they meant to be, not home.
  if (room.over) return;
  room.over = true;
  shutdown(room);
  sessionStorage.removeItem(room.joinedKey);
  announce("You left the space");
  // The address may name that other page before the app has heard of it (its hashchange still
  // queued behind this answer): going home now would overtake it.
  if (location.hash.split("?")[0] === `#${room.path()}`) room.app.go("/");
}

export async function endSpace(room) {
  await post(room.path("/end"));
  ended(room);
}

// The server sees a participant whose sockets are gone for a while as having left. After a
// network drop that is what we hear first when the socket resumes; the socket already joined
// again before it opened (beforeResume), and the replay goes on with our return. When it does
// not (we were dropped while connected), join again and reopen the socket so it counts; and
// reconnect the audio, unless we meant to leave.
export async function droppedOut(room, reason) {
  room.draw();
  if (room.leaving || room.over || room.rejoining) return;
  room.rejoining = true;
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (room.over || room.leaving) return;
    if (!room.people.has(room.me.id) && !(await rejoin(room))) return;
    log(room, "Back after a connection drop");
    room.audio?.reconnect();
    room.draw();
  } catch (error) {
    if (error instanceof ApiError && error.code === "space_not_live") ended(room);
    else announce(`You left the space (${reason || "disconnected"}): ${error.message}`, { assertive: true });
  } finally {
    room.rejoining = false;
  }
}

// Joins again, unless that has happened five times in the last minute. False if it gave up.
async function rejoin(room) {
  room.rejoins = room.rejoins.filter((t) => Date.now() - t < 60_000);
  if (room.rejoins.length >= 5) {
    announce("You keep dropping out of this space. Check your connection, then reload.", { assertive: true });
    return false;
  }
  room.rejoins.push(Date.now());
  room.people.set(room.me.id, await post(room.path("/join")));
  room.feed?.reconnect();
  return true;
}
