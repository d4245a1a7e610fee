// What a suspended account sees when it signs in: what happened, under which rule, why, until
// when, and a form to appeal (once). It uses the appeal-only token the refused sign-in gave.
import { appealSession, get, post, saveAppealSession } from "./api.js";
import { announce, busy, errorBox, field, h, when } from "./ui.js";

const ACTIONS = { suspend: "Account suspended", unsuspend: "Suspension lifted" };

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
        decision === "overturned" ? "Your appeal was upheld by a moderator and the suspension lifted: sign in again." : decision === "upheld" ? "A moderator reviewed your appeal and kept the suspension." : "Your appeal was received. A moderator will review it and you'll see the decision here.",
      ),
    );
    return wrap;
  }
  const box = errorBox();
  const form = h(
    "form",
    { class: "stack" },
    h("p", {}, "If you think this is a mistake, tell us why. You can appeal once; a moderator reviews it and the decision shows here."),
    field({ label: "Your appeal", name: "text", tag: "textarea", rows: 5, maxlength: 2000, required: true }),
    box,
    h("button", { type: "submit", class: "primary" }, "Send appeal"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = form.text.value.trim();
    if (!text) {
      box.show(new Error("Write a few words about why the decision is wrong."));
      form.text.focus();
      return;
    }
    busy(
      form.querySelector("button"),
      async () => {
        await post("/appeals", { notice_id: notice.id, text }, { token: appeal.appeal_token });
        const done = h("p", { role: "status", tabindex: "-1" }, "Appeal sent. A moderator will review it; the decision will show here when you sign in.");
        form.replaceWith(done);
        done.focus();
        announce("Appeal sent");
      },
      box,
    );
  });
  wrap.append(form);
  return wrap;
}
