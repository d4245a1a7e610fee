// The nav's Notifications link and its unread count: asked for on every route change and polled
// while signed in (one timer for the whole app), announced when it grows.
import { currentSession, get } from "./api.js";
import { announce, h, plural } from "./ui.js";

const POLL_MS = 30000;
// The server counts no further (UNREAD_COUNTED_MAX in core/notifications.py): 99 is "99 or more".
const MOST = 99;

// `asked` numbers every change of the count, so that an answer overtaken by a later one (the
// notifications screen setting 0 while a poll is on its way) is dropped rather than shown.
// `known` is false until the first answer: what was unread before the app opened is not "new".
const state = { count: 0, known: false, asked: 0, timer: null, link: null };

export function bellLink() {
  state.link = h("a", { href: "#/notifications", class: "bell" });
  draw();
  return state.link;
}

// Drawn in place, never by redrawing the nav: a poll must not take the focus from a nav button.
// The name is one hidden span and what shows is hidden from screen readers: a hidden count
// after the visible word would be read as a separate block ("Notifications , 2 unread").
function draw() {
  const { link, count } = state;
  if (!link) return;
  const shown = count >= MOST ? `${MOST}+` : String(count);
  link.replaceChildren(
    bellIcon(),
    h("span", { class: "bell-word", "aria-hidden": "true" }, "Notifications"),
    count > 0 ? h("span", { class: "bell-count", "aria-hidden": "true" }, shown) : "",
    h("span", { class: "visually-hidden" }, count > 0 ? `Notifications, ${shown} unread` : "Notifications"),
  );
}

function bellIcon() {
  const icon = h("span", { class: "bell-icon", "aria-hidden": "true" });
  icon.innerHTML = '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M6 9a6 6 0 0 1 12 0c0 6 2.5 7.5 2.5 7.5h-17S6 15 6 9"/><path d="M10 20a2 2 0 0 0 4 0"/></svg>';
  return icon;
}

// Fired on window when a poll finds more unread than before: the Notifications screen, if open,
// draws the new ones at once.
export const NEW_NOTIFICATIONS = "parley:new-notifications";

function show(count, announceRise) {
  const rise = count - state.count;
  state.count = count;
  draw();
  if (announceRise && rise > 0) {
    announce(plural(rise, "new notification"));
    window.dispatchEvent(new CustomEvent(NEW_NOTIFICATIONS));
  }
}

// What the app itself knows better than a poll in flight (everything was just marked seen).
export function setUnread(count) {
  state.asked += 1;
  show(count, false);
}

export async function refreshUnread() {
  if (!currentSession()) return;
  const asked = ++state.asked;
  let body;
  try {
    body = await get("/me/notifications/unread");
  } catch {
    return; // offline, or signed out meanwhile: the next poll or route change asks again
  }
  if (asked !== state.asked || !currentSession()) return;
  show(body.count, state.known);
  state.known = true;
}

// Called whenever the session may have changed: polls while signed in, forgets when signed out.
// The interval is read when polling starts; tests shorten it with window.parleyNotificationPollMs.
export function syncBell() {
  if (currentSession()) {
    const every = Number(window.parleyNotificationPollMs) || POLL_MS;
    // A hidden tab does not poll; it asks again as soon as it is shown (below).
    state.timer ??= setInterval(() => document.hidden || refreshUnread(), every);
    return;
  }
  clearInterval(state.timer);
  Object.assign(state, { count: 0, known: false, asked: state.asked + 1, timer: null });
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refreshUnread();
});
