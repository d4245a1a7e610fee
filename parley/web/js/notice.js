// What a suspended account sees when it signs in: what happened, under which rule, why, until
// when, and a form to appeal (once). It uses the appeal-only token the refused sign-in gave.
import { appealSession, get, saveAppealSession } from "./api.js";
import { appealForm } from "./appeal.js";
import { ACTIONS } from "./audit-actions.js";
import { h, when } from "./ui.js";

export async function render(main, _params, app) {
  const appeal = appealSession();
  if (!appeal) {
    main.append(h("section", { class: "page narrow" }, h("div", { class: "card center" }, h("h1", { tabindex: "-1" }, "Nothing to show"), h("p", {}, "Account notices appear here when you sign in to a suspended account."), h("a", { href: "#/signin", class: "button secondary" }, "Sign in"))));
    return;
  }
  let notices = [];
  try {
    notices = await get("/me/notices", { token: appeal.appeal_token });
  } catch {
    notices = appeal.notice ? [appeal.notice] : [];
  }
  const current = notices.find((n) => n.action === "suspend") || appeal.notice || notices[0];
  const page = h("section", { class: "page narrow notice-page" });
  const card = h(
    "div",
    { class: "card notice-card" },
    h("h1", { tabindex: "-1" }, "Your account is suspended"),
    h("p", { class: "lede" }, `@${appeal.handle} can't sign in, post, host or join spaces while it is suspended. Here is what happened and how to appeal.`),
  );
  if (current) {
    card.append(
      h(
        "dl",
        {},
        h("dt", {}, "What"),
        h("dd", {}, ACTIONS[current.action] || current.action),
        h("dt", {}, "Rule"),
        h("dd", {}, h("code", {}, current.rule || "unspecified")),
        h("dt", {}, "Reason"),
        h("dd", {}, current.reason || "—"),
        h("dt", {}, "When"),
        h("dd", {}, when(current.created_at)),
        h("dt", {}, "Until"),
        h("dd", {}, current.until ? when(current.until) : "Until a moderator lifts it"),
      ),
    );
    card.append(appealPart(current, appeal));
  } else {
    card.append(h("p", {}, "We couldn't load the details of this notice."));
  }
  card.append(
    h(
      "p",
      { class: "hint" },
      "Moderation follows the same published rules for every account. See the ",
      h("a", { href: "#/transparency" }, "transparency report"),
      ". ",
      h(
        "a",
        {
          href: "#/signin",
          onclick: () => saveAppealSession(null),
        },
        "Sign in with another account",
      ),
    ),
  );
  page.append(card);
  main.append(page);
}

function appealPart(notice, appeal) {
  const wrap = h("section", { "aria-labelledby": "appeal-h" }, h("h2", { id: "appeal-h" }, "Appeal"));
  if (notice.appeal_id) {
    const decision = notice.appeal_decision;
    wrap.append(
      h(
        "p",
        { role: "status" },
        decision === "overturned" ? "A moderator accepted your appeal and lifted the suspension: sign in again." : decision === "upheld" ? "A moderator reviewed your appeal and kept the suspension." : "Your appeal was received. A moderator who took no part in the decision will review it and you'll see the decision here.",
      ),
    );
    return wrap;
  }
  const sent = "Appeal sent. A moderator who took no part in the decision will review it; the decision will show here when you sign in.";
  wrap.append(appealForm(notice, { token: appeal.appeal_token, sent }));
  return wrap;
}
