// Pieces the space screens share: notices, the host's link, buttons that act on the server.
import { get, q } from "../api.js";
import { automatedLabel } from "../automated.js";
import { audienceLine } from "../cards.js";
import { announce, avatar, busy, h } from "../ui.js";

export const STAGE = new Set(["host", "cohost", "speaker"]);
export const ROLE_NAMES = { host: "Host", cohost: "Cohost", speaker: "Speaker", listener: "Listener" };

export const nameOf = (p) => `@${p.handle}`;

export function hostLink(space) {
  const name = space.host.display_name || space.host.handle || "someone";
  return space.host.handle ? h("a", { href: `#/u/${space.host.handle}` }, name) : name;
}

export function notice(title, text, ...more) {
  return h("section", { class: "page narrow" }, h("div", { class: "card center" }, h("h1", { tabindex: "-1" }, title), h("p", { class: "lede" }, text), ...more, h("p", {}, h("a", { href: "#/", class: "button secondary" }, "Back to home"))));
}

// Why a space ended, when it was not its host ending it, as its `space_ended` event says.
const ENDED_BECAUSE = {
  feature_disabled: (message) => `Parley's admins took Spaces offline${message ? `: ${message}` : "."}`,
  host_left: () => "Its host left and no cohost could take over.",
  host_limited: () => "Its host could not go on hosting, and no cohost could take over.",
  host_deactivated: () => "Its host deleted their account.",
  host_suspended: () => "It was ended by moderation.",
  moderation: () => "A moderator ended it.",
};

// `reread`: `space` is the room's copy, whose counts stopped with the events, so the audience
// is read anew; a space the page has just read says it as it is. `why`: the `space_ended`
// event's data, when the room saw it end.
export function renderOver(main, space, { reread = false, why = null } = {}) {
  const audience = reread ? audienceReadAnew(space.id) : audienceLine(space);
  const because = why && Object.hasOwn(ENDED_BECAUSE, why.reason) ? ENDED_BECAUSE[why.reason](why.message) : null;
  main.replaceChildren(
    notice(
      space.state === "cancelled" ? "This space was cancelled" : "This space has ended",
      `“${space.title}”, hosted by ${space.host.display_name || space.host.handle || "someone"}, ${space.state === "cancelled" ? "will not take place" : "is over"}.`,
      because ? h("p", { class: "ended-because" }, because) : null,
      audience,
      space.recording && space.state === "ended" ? h("p", {}, h("a", { href: `#/spaces/${space.id}/replay`, class: "button primary" }, "Listen to the recording")) : null,
    ),
  );
}

// A place for the audience line, filled once the space is read (left empty if it cannot be).
function audienceReadAnew(spaceId) {
  const placeholder = h("p", { hidden: true });
  get(`/spaces/${q(spaceId)}`)
    .then((fresh) => placeholder.replaceWith(audienceLine(fresh) || placeholder))
    .catch(() => {});
  return placeholder;
}

// A button keyed for focus keeping (see focus.js); `onclick` gets the button.
export function button(label, key, onclick, cls = "small secondary", extra = {}) {
  const b = h("button", { type: "button", class: cls, "data-key": key, ...extra }, label);
  b.addEventListener("click", () => onclick(b));
  return b;
}

// Runs `work` with the button busy, then says `done` (when given) to screen readers.
export function act(button, work, done) {
  return busy(button, async () => {
    await work();
    if (done) announce(done);
  });
}

export function micIcon(off) {
  const icon = h("span", { class: "mic-icon", "aria-hidden": "true" });
  icon.innerHTML = `<svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>${off ? '<path d="M4 4l16 16"/>' : ""}</svg>`;
  return icon;
}

// One person in a side list (requests, audience), with the tools the viewer may use on them.
export function personRow(p, { nameId, isMe, tools }) {
  return h(
    "li",
    { class: "person", "data-id": p.account_id },
    avatar(p.handle, { size: "sm" }),
    h("span", { class: "who", id: nameId }, nameOf(p), isMe ? h("span", { class: "you" }, " (you)") : null, automatedLabel(p.automated), p.hand_raised ? h("span", { class: "hand", title: "Hand raised" }, " ✋", h("span", { class: "visually-hidden" }, "hand raised")) : null),
    tools.length ? h("div", { class: "tools" }, tools) : null,
  );
}
