// A space as a card in a list (home, a host's profile): live with its stage and "Join",
// scheduled with "Go live" for its host and a reminder for everyone else, ended with its replay.
import { post, q } from "./api.js";
import { textNodes } from "./posts.js";
import { reminderControls } from "./reminder.js";
import { ago, avatar, busy, h, plural, when } from "./ui.js";

function hostName(space) {
  return space.host.display_name || space.host.handle || "someone";
}

export function liveCard(space, app) {
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

export function scheduledCard(space, app) {
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

// A space that is over, as a host's profile lists it: when, and its recording when it has one.
export function endedCard(space) {
  const titleId = `space-${space.id}-title`;
  const replay = space.recording ? h("a", { href: `#/spaces/${space.id}/replay`, class: "button secondary small", "aria-describedby": titleId }, "Listen to the recording") : null;
  return h(
    "li",
    {},
    h(
      "article",
      { class: "space-card ended", "aria-labelledby": titleId },
      h("div", { class: "card-top" }, h("span", { class: "badge" }, `Ended ${ago(space.ended_at)}`)),
      h("h3", { id: titleId }, textNodes(space.title_parts, space.title)),
      space.description ? h("p", { class: "description" }, textNodes(space.description_parts, space.description)) : null,
      replay ? h("div", { class: "card-bottom" }, replay) : null,
    ),
  );
}
