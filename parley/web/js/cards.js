// A space as a card in a list (home, a host's profile) or under a post that shares it: live with
// its stage and "Join", scheduled with "Go live" for its host and a reminder for everyone else,
// ended with its replay, or cancelled.
import { post, q } from "./api.js";
import { textNodes } from "./posts.js";
import { reminderControls } from "./reminder.js";
import { ago, avatar, busy, due, h, plural } from "./ui.js";

// What a space that is over says of its audience ("12 people tuned in · at most 9 listeners at
// once"); nothing for a space nobody was counted in.
export function audienceLine(space) {
  if (!space.tuned_in) return null;
  const peak = space.peak_listeners > 0 ? ` · at most ${plural(space.peak_listeners, "listener")} at once` : "";
  return h("p", { class: "count audience-line" }, `${plural(space.tuned_in, "person", "people")} tuned in${peak}`);
}

function hostName(space) {
  return space.host.display_name || space.host.handle || "someone";
}

// One space may be on a page several times (live now, and shared by posts): each card its own id.
let cards = 0;
function titleIdOf(space) {
  cards += 1;
  return `space-${space.id}-title-${cards}`;
}

// As a list item (home, a profile, search) or on its own (under a post).
export const liveCard = (space, app) => h("li", {}, liveArticle(space, app));
export const scheduledCard = (space, app) => h("li", {}, scheduledArticle(space, app));
export const endedCard = (space) => h("li", {}, endedArticle(space));

export function spaceCard(space, app) {
  if (space.state === "live") return liveArticle(space, app);
  if (space.state === "scheduled") return scheduledArticle(space, app);
  if (space.state === "ended") return endedArticle(space);
  return cancelledArticle(space);
}

function liveArticle(space, app) {
  const titleId = titleIdOf(space);
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
        stage.slice(0, 5).map((p) => h("li", { title: `@${p.handle}` }, avatar(p.handle, { size: "sm", name: p.account_id === space.host.id ? space.host.display_name : "" }))),
        stage.length > 5 ? h("li", { class: "more", "aria-hidden": "true" }, `+${stage.length - 5}`) : null,
      ),
      h("p", { class: "count" }, plural(space.listener_count, "listener")),
      join,
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

function scheduledArticle(space, app) {
  const titleId = titleIdOf(space);
  const { button, badge } = scheduledAction(space, app, titleId);
  return h(
    "article",
    { class: "space-card scheduled", "aria-labelledby": titleId },
    h("div", { class: "card-top" }, h("span", { class: "badge" }, due(space.scheduled_start)), badge),
    h("h3", { id: titleId }, textNodes(space.title_parts, space.title)),
    h("p", { class: "host" }, "Hosted by ", space.host.handle ? h("a", { href: `#/u/${space.host.handle}` }, hostName(space)) : hostName(space)),
    space.description ? h("p", { class: "description" }, textNodes(space.description_parts, space.description)) : null,
    h("div", { class: "card-bottom" }, button),
  );
}

// A space that is over, as a host's profile lists it: when, and its recording when it has one.
function endedArticle(space) {
  const titleId = titleIdOf(space);
  const replay = space.recording ? h("a", { href: `#/spaces/${space.id}/replay`, class: "button secondary small", "aria-describedby": titleId }, "Listen to the recording") : null;
  return h(
    "article",
    { class: "space-card ended", "aria-labelledby": titleId },
    h("div", { class: "card-top" }, h("span", { class: "badge" }, `Ended ${ago(space.ended_at)}`)),
    h("h3", { id: titleId }, textNodes(space.title_parts, space.title)),
    space.description ? h("p", { class: "description" }, textNodes(space.description_parts, space.description)) : null,
    audienceLine(space),
    replay ? h("div", { class: "card-bottom" }, replay) : null,
  );
}

function cancelledArticle(space) {
  const titleId = titleIdOf(space);
  return h(
    "article",
    { class: "space-card ended", "aria-labelledby": titleId },
    h("div", { class: "card-top" }, h("span", { class: "badge" }, "Cancelled")),
    h("h3", { id: titleId }, textNodes(space.title_parts, space.title)),
    h("p", { class: "host" }, "Hosted by ", hostName(space)),
  );
}
