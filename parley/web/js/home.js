// Home: live spaces (followed hosts first, as the server orders them), scheduled spaces with
// "Remind me" (reminder.js), and posts from people you follow.
import { get, post, q } from "./api.js";
import { automatedLabel, placeLine } from "./automated.js";
import { renderPostText, textNodes } from "./posts.js";
import { reminderControls } from "./reminder.js";
import { ago, avatar, busy, h, plural, when } from "./ui.js";

const REFRESH_MS = 10000;

function hostName(space) {
  return space.host.display_name || space.host.handle || "someone";
}

function liveCard(space, app) {
  const titleId = `space-${space.id}-title`;
  const stage = space.stage || [];
  const join = h("button", { type: "button", class: "primary", "aria-describedby": titleId }, "Join");
  join.addEventListener("click", () => {
    if (!app.session()) {
      sessionStorage.setItem("parley.after", `/spaces/${space.id}`);
      app.go("/signin");
      return;
    }
    busy(join, async () => {
      await post(`/spaces/${q(space.id)}/join`);
      sessionStorage.setItem(`parley.joined.${space.id}`, "1");
      app.go(`/spaces/${space.id}`);
    });
  });
  return h(
    "li",
    {},
    h(
      "article",
      { class: "space-card live", "aria-labelledby": titleId },
      h("div", { class: "card-top" }, h("span", { class: "badge live" }, "Live"), space.recording ? h("span", { class: "badge" }, "Recording") : null),
      h("h3", { id: titleId }, h("a", { href: `#/spaces/${space.id}` }, space.title)),
      h("p", { class: "host" }, "Hosted by ", space.host.handle ? h("a", { href: `#/u/${space.host.handle}` }, hostName(space)) : hostName(space)),
      space.topics?.length ? h("ul", { class: "topics", "aria-label": "Topics" }, space.topics.map((t) => h("li", {}, t))) : null,
      h(
        "div",
        { class: "card-bottom" },
        h(
          "ul",
          { class: "faces", "aria-label": `On stage: ${stage.map((p) => p.handle).join(", ") || "nobody yet"}` },
          stage.slice(0, 5).map((p) => h("li", { title: `@${p.handle}` }, avatar(p.handle, { size: "sm" }))),
          stage.length > 5 ? h("li", { class: "more", "aria-hidden": "true" }, `+${stage.length - 5}`) : null,
        ),
        h("p", { class: "count" }, plural(space.listener_count, "listener")),
        join,
      ),
    ),
  );
}

// The host's "Go live", or everyone else's reminder (reminder.js): {button, badge}.
function scheduledAction(space, app, titleId) {
  const me = app.session()?.account;
  if (!me || me.id !== space.host.id) return reminderControls(space, app, { describedBy: titleId });
  const button = h("button", { type: "button", class: "primary", "aria-describedby": titleId }, "Go live");
  button.addEventListener("click", () =>
    busy(button, async () => {
      await post(`/spaces/${q(space.id)}/start`);
      app.go(`/spaces/${space.id}`);
    }),
  );
  return { button, badge: null };
}

function scheduledCard(space, app) {
  const titleId = `space-${space.id}-title`;
  const { button, badge } = scheduledAction(space, app, titleId);
  return h(
    "li",
    {},
    h(
      "article",
      { class: "space-card scheduled", "aria-labelledby": titleId },
      h("div", { class: "card-top" }, h("span", { class: "badge" }, when(space.scheduled_start)), badge),
      h("h3", { id: titleId }, textNodes(space.title_parts, space.title)),
      h("p", { class: "host" }, "Hosted by ", space.host.handle ? h("a", { href: `#/u/${space.host.handle}` }, hostName(space)) : hostName(space)),
      space.description ? h("p", { class: "description" }, textNodes(space.description_parts, space.description)) : null,
      h("div", { class: "card-bottom" }, button),
    ),
  );
}

// A post as a list item; `actions` (the author's own controls) go under it.
export function postItem(p, actions = null) {
  return h(
    "li",
    {},
    h(
      "article",
      { class: "post" },
      h("header", {}, avatar(p.author.display_name || p.author.handle, { size: "sm" }), h("a", { href: `#/u/${p.author.handle}`, class: "who" }, p.author.display_name, " ", h("span", { class: "handle" }, `@${p.author.handle}`)), automatedLabel(p.author.automated), h("time", { datetime: p.created_at }, ago(p.created_at))),
      renderPostText(p),
      placeLine(p.place),
      actions,
    ),
  );
}

export async function render(main, _params, app) {
  const session = app.session();
  const liveList = h("ul", { class: "grid", "aria-label": "Live spaces" });
  const scheduledList = h("ul", { class: "grid", "aria-label": "Scheduled spaces" });
  const hero = session
    ? h("div", { class: "hero" }, h("h1", { tabindex: "-1" }, `Hello, ${session.account.display_name}`), h("p", { class: "lede" }, "Jump into a live conversation, or start your own."))
    : h(
        "div",
        { class: "hero" },
        h("h1", { tabindex: "-1" }, "Live audio rooms, done with care"),
        h("p", { class: "lede" }, "Listen in, raise your hand, take the stage. ", h("a", { href: "#/signup" }, "Create an account"), " or ", h("a", { href: "#/signin" }, "sign in"), " to join."),
      );
  const timeline = h("ul", { class: "posts", "aria-label": "Posts" });
  main.append(
    h(
      "div",
      { class: "page" },
      hero,
      h("section", { "aria-labelledby": "live-heading" }, h("h2", { id: "live-heading" }, h("span", { class: "dot", "aria-hidden": "true" }), "Live now"), liveList),
      h("section", { "aria-labelledby": "scheduled-heading" }, h("h2", { id: "scheduled-heading" }, "Coming up"), scheduledList),
      session ? h("section", { "aria-labelledby": "posts-heading" }, h("h2", { id: "posts-heading" }, "From people you follow"), timeline) : null,
    ),
  );

  async function load() {
    const [live, scheduled] = await Promise.all([get("/spaces?state=live"), get("/spaces?state=scheduled")]);
    liveList.setAttribute("aria-busy", "true");
    liveList.replaceChildren(...(live.length ? live.map((s) => liveCard(s, app)) : [h("li", { class: "empty" }, "Nothing live right now. Why not start something?")]));
    liveList.removeAttribute("aria-busy");
    scheduledList.replaceChildren(...(scheduled.length ? scheduled.map((s) => scheduledCard(s, app)) : [h("li", { class: "empty" }, "No spaces scheduled yet.")]));
  }
  await load().catch((error) => liveList.replaceChildren(h("li", { class: "error" }, error.message)));
  if (session) {
    get("/timeline?limit=20")
      .then((posts) => timeline.replaceChildren(...(posts.length ? posts.map((p) => postItem(p)) : [h("li", { class: "empty" }, "Follow people to see their posts here.")])))
      .catch(() => timeline.replaceChildren(h("li", { class: "empty" }, "Posts could not be loaded.")));
  }
  // Keep the lists fresh, but never pull a card out from under keyboard focus.
  const timer = setInterval(() => {
    if (main.contains(document.activeElement) && document.activeElement !== main && document.activeElement.tagName !== "H1") return;
    load().catch(() => {});
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
