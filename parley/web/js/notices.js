// Notices: what moderators did to this account, its bots or what it made (a suspension since lifted, a
// post or a space's recording removed), under which rule and why, newest first, each with its appeal: the decision, "received"
// while a moderator has yet to decide, or the form (once). A suspended account cannot be here (it
// has no session): it sees notice.js, with its appeal-only token.
import { get } from "./api.js";
import { appealForm } from "./appeal.js";
import { h, when } from "./ui.js";

const EMPTY = "No moderation notices. If a moderator ever acts on your account or your posts, you'll see what happened and how to appeal here.";

// Each action's heading, and what an overturned appeal undid. Actions this client does not know
// (a newer server) still show the server's own text under a plain heading.
export const ACTIONS = {
  suspend: { title: "Account suspended", overturned: "A moderator accepted your appeal and lifted the suspension." },
  limit: { title: "Account limited", overturned: "A moderator accepted your appeal and lifted the limit." },
  remove_post: { title: "Post removed", overturned: "A moderator accepted your appeal: your post is shown again." },
  end_space: { title: "Space ended", overturned: "A moderator accepted your appeal: your space's page is back." },
  remove_recording: { title: "Recording removed", overturned: "A moderator accepted your appeal: the recording can be played again." },
};
// What reverses an action is told as a notice too, but there is nothing in it to appeal.
const NOT_APPEALABLE = new Set(["unsuspend", "unlimit", "restore_post", "restore_recording", "restore_space"]);

export async function render(main) {
  const list = h("ul", { class: "notices", "aria-label": "Notices" });
  main.append(
    h(
      "section",
      { class: "page narrow notices-page", "aria-labelledby": "notices-h" },
      h("h1", { id: "notices-h", tabindex: "-1" }, "Notices"),
      h("p", { class: "lede" }, "What moderators did about your account, your posts or your bots, under which rule and why. You can appeal each decision once."),
      list,
      h("p", { class: "hint" }, "Moderation follows the same published rules for every account. See the ", h("a", { href: "#/transparency" }, "transparency report"), "."),
    ),
  );
  let notices;
  try {
    notices = await get("/me/notices");
  } catch (error) {
    list.replaceChildren(h("li", { class: "error" }, error.message));
    return;
  }
  // Newest first whatever order they come in: the latest decision is what one came to read.
  notices.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  list.replaceChildren(...(notices.length ? notices.map(item) : [h("li", { class: "empty" }, EMPTY)]));
}

function item(notice) {
  const headingId = `notice-${notice.id}`;
  const action = ACTIONS[notice.action]?.title || "Moderation notice";
  // A bot's notice is its owner's to read and appeal: its text speaks to the bot's account.
  const title = notice.bot ? `Your bot @${notice.bot.handle}: ${action.toLowerCase()}` : action;
  return h(
    "li",
    {},
    h(
      "article",
      { class: "card notice-card", "aria-labelledby": headingId },
      h("h2", { id: headingId }, title),
      h("p", { class: "notice-text" }, notice.text),
      h(
        "dl",
        {},
        h("dt", {}, "Rule"),
        h("dd", {}, h("code", {}, notice.rule || "unspecified")),
        h("dt", {}, "Reason"),
        h("dd", {}, notice.reason || "—"),
        h("dt", {}, "When"),
        h("dd", {}, h("time", { datetime: notice.created_at }, when(notice.created_at))),
        notice.until ? [h("dt", {}, "Until"), h("dd", {}, when(notice.until))] : null,
      ),
      NOT_APPEALABLE.has(notice.action) ? null : appealPart(notice),
    ),
  );
}

function appealPart(notice) {
  // A heading, not a region: a landmark per notice, each named "Appeal", would be noise.
  const part = h("div", { class: "appeal" }, h("h3", {}, "Appeal"));
  if (!notice.appeal_id) {
    part.append(appealForm(notice, { sent: "Appeal sent. A moderator who took no part in the decision will review it; you'll be notified of the decision, and it will show here." }));
    return part;
  }
  const decided = {
    overturned: ACTIONS[notice.action]?.overturned || "A moderator accepted your appeal and overturned the decision.",
    upheld: "A moderator reviewed your appeal and kept the decision.",
  };
  part.append(h("p", { class: "appeal-state" }, decided[notice.appeal_decision] || "Your appeal was received. A moderator who took no part in the decision will review it and you'll see the decision here."));
  return part;
}
