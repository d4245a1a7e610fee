// A reported post in the moderators' reports queue: its words (kept for the queue even once the
// post is removed or deleted, so the report can still be judged), who wrote it, and "Remove post".
// Removing takes the one post from sight instead of the whole account; its author gets a notice
// with the rule and the reason, and may appeal. The report is then resolved as actioned.
import { ApiError, post, q } from "./api.js";
import { announce, errorBox, field, h, onSubmit } from "./ui.js";

const STATES = { removed: "Removed by a moderator", deleted: "Deleted by its author" };

// `rules`: the id of the datalist of rule names; `done`: redraws the queue after a removal.
export function reportedPost(report, { rules, done }) {
  const author = report.target_handle;
  const text = report.post_text;
  return h(
    "div",
    { class: "reported-post" },
    "Post by ",
    author ? h("a", { href: `#/u/${author}` }, `@${author}`) : "an account no longer shown",
    // Text nodes only: the post is someone's words, never markup.
    typeof text === "string" ? h("blockquote", { class: "reported-post-text" }, text) : h("p", { class: "hint" }, "The post's text is not available."),
    STATES[report.post_state] ? h("span", { class: "tag" }, STATES[report.post_state]) : null,
    report.post_state === "shown" ? removeControl(report, rules, done) : null,
  );
}

function removeControl(report, rules, done) {
  const box = errorBox();
  const toggle = h("button", { type: "button", class: "danger small", "aria-expanded": "false" }, "Remove post");
  const cancel = h("button", { type: "button", class: "ghost small" }, "Cancel");
  const form = h(
    "form",
    { class: "stack remove-post", hidden: true, "aria-label": `Remove the post reported in report ${report.id}` },
    field({ label: "Rule", name: "rule", list: rules, required: true, autocomplete: "off", value: report.rule }),
    field({ label: "Reason", name: "reason", tag: "textarea", rows: 2, required: true, hint: "Shown to the author in their notice, and recorded as the report's resolution." }),
    box,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger small" }, "Confirm removal"), cancel),
  );
  const fold = (folded) => {
    form.hidden = folded;
    toggle.setAttribute("aria-expanded", String(!folded));
    (folded ? toggle : form.reason).focus();
  };
  toggle.addEventListener("click", () => fold(!form.hidden));
  cancel.addEventListener("click", () => fold(true));
  onSubmit(form, box, async () => {
    await removeAndResolve(report, form.rule.value.trim(), form.reason.value.trim());
    await done();
  });
  return h("div", {}, toggle, form);
}

async function removeAndResolve(report, rule, reason) {
  try {
    await post(`/admin/posts/${q(report.target_id)}/remove`, { rule, reason });
  } catch (error) {
    // Another moderator removed it meanwhile (or this one, with the resolution failing after):
    // what is left to do is this report.
    if (!(error instanceof ApiError && error.code === "post_already_removed")) throw error;
  }
  await post(`/admin/reports/${q(report.id)}/resolve`, { status: "actioned", reason });
  announce("Post removed and the report resolved as actioned");
}
