// Home: live spaces (followed hosts first, as the server orders them), scheduled spaces with
// "Remind me" (reminder.js), posts from people you follow, and finding people and spaces (search.js).
import { get } from "./api.js";
import { automatedLabel, placeLine } from "./automated.js";
import { liveCard, scheduledCard, spaceCard } from "./cards.js";
import { searchSection } from "./search.js";
import { renderPostText } from "./posts.js";
import { ago, avatar, h } from "./ui.js";

const REFRESH_MS = 10000;

// A post as a list item, with the space it shares as a card; `actions` (the author's own
// controls) go under it.
export function postItem(p, app, actions = null) {
  return h(
    "li",
    {},
    h(
      "article",
      { class: "post" },
      h("header", {}, avatar(p.author.handle, { size: "sm", name: p.author.display_name }), h("a", { href: `#/u/${p.author.handle}`, class: "who" }, p.author.display_name, " ", h("span", { class: "handle" }, `@${p.author.handle}`)), automatedLabel(p.author.automated), h("time", { datetime: p.created_at }, ago(p.created_at))),
      renderPostText(p),
      placeLine(p.place),
      p.space ? h("div", { class: "post-space" }, spaceCard(p.space, app)) : null,
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
      searchSection(app),
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
      .then((posts) => timeline.replaceChildren(...(posts.length ? posts.map((p) => postItem(p, app)) : [h("li", { class: "empty" }, "Follow people to see their posts here.")])))
      .catch(() => timeline.replaceChildren(h("li", { class: "empty" }, "Posts could not be loaded.")));
  }
  // Keep the lists fresh, but never pull a card out from under keyboard focus.
  const timer = setInterval(() => {
    if (main.contains(document.activeElement) && document.activeElement !== main && document.activeElement.tagName !== "H1") return;
    load().catch(() => {});
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
