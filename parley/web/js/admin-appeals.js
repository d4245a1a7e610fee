// One appeal in the moderators' queue: whose it is, what it answers (the action, its rule and
// reason, and the moderator who took it), the appeal's words, and the decision. An appeal is a
// second look: one that is the reader's own, their bot's, or of an action they took is shown
// with who decides it instead of the form (the server refuses such a decision too).
import { automatedLabel } from "./automated.js";
import { post, q } from "./api.js";
import { ACTIONS } from "./notices.js";
import { announce, busy, errorBox, field, h, when } from "./ui.js";

export function appealItem(appeal, decided) {
  const notice = appeal.notice;
  const by = appeal.action_by ? `@${appeal.action_by}` : "the operator";
  // A bot's appeal is written by its owner, whom the label names.
  const who = h("p", {}, h("strong", {}, appeal.handle ? `@${appeal.handle}` : `Account ${appeal.account_id}`), " ", automatedLabel(appeal.automated), " · ", when(appeal.created_at));
  const what = h("p", { class: "appealed" }, h("strong", {}, ACTIONS[notice.action]?.title || notice.action), " under ", h("code", {}, notice.rule), ` by ${by}, ${when(notice.created_at)}: `, notice.reason);
  const decision = appeal.involves_you ? h("p", { class: "hint" }, "Yours or about your own action: another moderator decides it.") : decisionForm(appeal, decided);
  return h("li", { class: "card appeal-card" }, who, what, h("blockquote", {}, appeal.text), decision);
}

function decisionForm(appeal, decided) {
  const box = errorBox();
  const form = h(
    "form",
    { class: "stack" },
    field({ label: "Decision reason", name: "reason", required: true, autocomplete: "off" }),
    box,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary small", value: "overturned" }, "Overturn"), h("button", { type: "submit", class: "secondary small", value: "upheld" }, "Uphold")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const decision = event.submitter?.value || "upheld";
    busy(
      event.submitter,
      async () => {
        await post(`/admin/appeals/${q(appeal.id)}/decide`, { decision, reason: form.reason.value.trim() || decision });
        announce(`Appeal ${decision}`);
        await decided();
      },
      box,
    );
  });
  return form;
}
