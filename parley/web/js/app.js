// Parley's web client: a hash router (#/...) over plain ES modules, no build step.
import { api, currentSession, saveSession, get, instanceStatus } from "./api.js";
import { bellLink, refreshUnread, syncBell } from "./bell.js";
import { disclosure } from "./disclosure.js";
import { isNarrow, onNarrowChange } from "./narrow.js";
import { h, announce } from "./ui.js";

// Each screen is a module exporting `render(main, params, app)`, which may return a cleanup
// function, called when the route changes.
const ROUTES = [
  [/^\/$/, () => import("./home.js"), "Home"],
  [/^\/signin$/, () => import("./auth.js").then((m) => ({ render: m.renderSignIn })), "Sign in"],
  [/^\/signup$/, () => import("./auth.js").then((m) => ({ render: m.renderSignUp })), "Sign up"],
  [/^\/new$/, () => import("./compose.js"), "Start a space"],
  [/^\/spaces\/([\w-]+)$/, () => import("./space.js"), "Space"],
  [/^\/spaces\/([\w-]+)\/replay$/, () => import("./replay.js"), "Replay"],
  [/^\/clips\/([\w-]+)$/, () => import("./clip.js"), "Clip"],
  [/^\/u\/([\w.-]+)$/, () => import("./profile.js"), "Profile"],
  [/^\/notice$/, () => import("./notice.js"), "Account suspended"],
  [/^\/admin(?:\/([\w-]+))?$/, () => import("./admin.js"), "Admin"],
  [/^\/transparency$/, () => import("./transparency.js"), "Transparency"],
  [/^\/status$/, () => import("./status.js"), "Status"],
  [/^\/notifications$/, () => import("./notifications.js"), "Notifications"],
  [/^\/notices$/, () => import("./notices.js"), "Notices"],
];

// Screens that need a signed-in account send others to sign in first.
const PUBLIC = new Set(["Home", "Sign in", "Sign up", "Account suspended", "Transparency", "Status", "Profile", "Replay", "Clip"]);

const main = document.getElementById("main");
let cleanup = null;
let renderId = 0;
// The hash the last render was for. Two hash changes in a row (a screen that sends elsewhere as a
// link is followed) fire two events, and the first renders the second's screen: the second then
// finds it shown and draws nothing again, so no control is replaced under a click.
let shownHash = null;
// What the nav was last drawn for: it is drawn anew only when that changes, for the same reason.
let navDrawnFor = null;

export const app = {
  go(path) {
    if (location.hash === `#${path}`) route();
    else location.hash = path;
  },
  session: currentSession,
  // Sets the page title and moves focus to the screen's heading, so a screen reader hears it.
  titled(text) {
    document.title = text ? `${text} · Parley` : "Parley";
  },
};

function currentPath() {
  const hash = location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash.split("?")[0] : "/";
}

async function route() {
  shownHash = location.hash;
  const path = currentPath();
  const id = ++renderId;
  if (cleanup) {
    try {
      cleanup();
    } catch (error) {
      console.error(error);
    }
    cleanup = null;
  }
  const found = ROUTES.find(([pattern]) => pattern.test(path));
  renderNav();
  refreshUnread();
  if (!found) {
    main.replaceChildren(
      h("section", { class: "page narrow" }, h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, "There is nothing here. ", h("a", { href: "#/" }, "Go home"))),
    );
    focusHeading();
    return;
  }
  const [pattern, load, name] = found;
  if (!PUBLIC.has(name) && !currentSession()) {
    sessionStorage.setItem("parley.after", path);
    app.go("/signin");
    return;
  }
  const params = path.match(pattern).slice(1);
  app.titled(name);
  try {
    const module = await load();
    if (id !== renderId) return;
    // Each render fills a screen of its own. One overtaken by a later route (a Join pressed
    // while the page was already on its way elsewhere) goes on filling a screen no longer
    // shown, never the new one beside it, and can tell: `screen.isConnected` is false.
    const screen = h("div", { class: "screen" });
    main.replaceChildren(screen);
    main.dataset.screen = name.toLowerCase().replace(/\s+/g, "-");
    const result = await module.render(screen, params, app);
    if (id !== renderId) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = typeof result === "function" ? result : null;
    focusHeading();
  } catch (error) {
    console.error(error);
    if (id !== renderId) return;
    main.replaceChildren(
      h("section", { class: "page narrow" }, h("h1", { tabindex: "-1" }, "Something went wrong"), h("p", { class: "error" }, error.message || String(error)), h("p", {}, h("a", { href: "#/" }, "Go home"))),
    );
    focusHeading();
  }
}

let firstRender = true;
function focusHeading() {
  // On the first load the browser's own focus is right; afterwards, each screen's h1 takes it.
  if (firstRender) {
    firstRender = false;
    return;
  }
  const heading = main.querySelector("h1");
  if (heading) {
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

function renderNav() {
  const nav = document.getElementById("nav");
  const session = currentSession();
  const narrow = isNarrow();
  const drawnFor = JSON.stringify([session?.token ?? null, Boolean(session?.admin), narrow]);
  // The same nav on a wide screen stays, only which link is the current page changes. (On a
  // phone it is drawn anew, which closes its menu as a link in it is followed.)
  if (drawnFor !== navDrawnFor || narrow) {
    navDrawnFor = drawnFor;
    drawNav(nav, session, narrow);
  }
  markCurrent(nav, currentPath());
}

function drawNav(nav, session, narrow) {
  const link = (href, text, extra = {}) => h("a", { href: `#${href}`, ...extra }, text);
  const item = (content) => h("li", {}, content);
  if (!session) {
    // On a phone the brand is the way home: three links do not fit beside it.
    nav.replaceChildren(h("ul", { class: "nav" }, narrow ? null : item(link("/", "Home")), item(link("/signin", "Sign in")), item(link("/signup", "Create account", { class: "pill" }))));
    return;
  }
  const me = session.account;
  const home = link("/", "Home");
  const admin = session.admin ? link("/admin", "Admin") : null;
  const profile = link(`/u/${me.handle}`, [`@${me.handle}`, h("span", { class: "visually-hidden" }, " (your profile)")]);
  const start = h("button", { type: "button", class: "primary small", onclick: () => app.go("/new") }, "Start a space");
  const signOutButton = h("button", { type: "button", class: "ghost small", onclick: signOut }, "Sign out");
  if (!narrow) {
    nav.replaceChildren(h("ul", { class: "nav" }, item(home), item(bellLink()), admin && item(admin), item(profile), item(start), item(signOutButton)));
    return;
  }
  // A phone's one row: the bell and Start a space, and the rest behind the menu.
  const menu = h("ul", { class: "nav-menu" }, item(home), admin && item(admin), item(profile), item(signOutButton));
  const toggle = disclosure({ id: "nav-menu", panel: menu, content: [menuIcon(), h("span", { class: "visually-hidden" }, "Menu")] });
  nav.replaceChildren(h("ul", { class: "nav" }, item(bellLink()), item(start), item(toggle)));
}

// The link to the screen shown is the current page (the admin's for any of its sections).
function markCurrent(nav, path) {
  for (const link of nav.querySelectorAll('a[href^="#/"]')) {
    const href = link.getAttribute("href").slice(1);
    const current = href === "/admin" ? path.startsWith("/admin") : href === path;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function menuIcon() {
  const icon = h("span", { class: "menu-icon", "aria-hidden": "true" });
  icon.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M4 7h16M4 12h16M4 17h16"/></svg>';
  return icon;
}

async function signOut() {
  try {
    await api("DELETE", "/sessions/current");
  } catch {
    // Signed out here whatever the server says.
  }
  saveSession(null);
  announce("Signed out");
  app.go("/");
}

// A banner with the admins' message when Spaces are switched off; the footer's API link only
// where the instance serves its docs.
async function showStatus(fresh = false) {
  const banner = document.getElementById("status-banner");
  try {
    const { features, api_docs: docs } = await (fresh ? get("/status") : instanceStatus());
    document.getElementById("api-docs-link").hidden = docs === false;
    const off = Object.entries(features || {}).filter(([, f]) => f && f.enabled === false);
    if (off.length) {
      banner.textContent = off.map(([name, f]) => f.message || `${name} is switched off for now`).join(" · ");
      banner.hidden = false;
    } else banner.hidden = true;
  } catch {
    banner.hidden = true;
  }
}
app.refreshStatus = () => showStatus(true);

document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => {
  if (location.hash !== shownHash) route();
});
// Following a link to the screen already shown refreshes it (the hash does not change).
document.addEventListener("click", (event) => {
  const link = event.target.closest?.('a[href^="#/"]');
  if (link && link.getAttribute("href") === location.hash && !event.defaultPrevented) {
    event.preventDefault();
    route();
  }
});
window.addEventListener("parley:session", () => {
  syncBell();
  renderNav();
});
onNarrowChange(renderNav);
syncBell();
route();
showStatus();
