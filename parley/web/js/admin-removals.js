// What moderators can take from sight in the reports queue without touching the whole account:
// a reported post (its words are shown, kept for the queue even once the post is removed or
// deleted, so the report can still be judged), a reported space, and its recording. The author or
// host gets a notice with the rule and the reason, and may appeal; the report is then resolved
// as actioned.
import { ApiError, api, post, q } from "./api.js";
import { announce, errorBox, field, h, onSubmit } from "./ui.js";

const STATES = { removed: "Removed by a moderator", deleted: "Deleted by its author" };

// Each removable thing: its button, who is told, the request, and the code saying another
// moderator (or this one, with the resolution failing after) removed it already.
const POST = {
  label: "Remove post",
  told: "author",
  remove: (report, body) => post(`/admin/posts/${q(report.target_id)}/remove`, body),
  already: "post_already_removed",
  done: "Post removed",
};
const SPACE = {
  label: "End space",
  told: "host",
  remove: (report, body) => post(`/admin/spaces/${q(report.target_id)}/end`, body),
  already: "space_over",
  done: "Space ended",
};
const RECORDING = {
  label: "Remove recording",
  told: "host",
  remove: (report, body) => api("DELETE", `/admin/spaces/${q(report.target_id)}/recording`, body),
  already: "recording_deleted",
  done: "Recording removed",
};

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
    report.post_state === "shown" && !report.about_you ? removeControl(report, rules, done, POST) : null,
  );
}

// A reported space: ending it (a live one for everyone in it, a scheduled one called off), and
// removing its recording (the server answers that there is none, if so).
export function spaceRemovals(report, { rules, done }) {
  return [removeControl(report, rules, done, SPACE), removeControl(report, rules, done, RECORDING)];
}

function removeControl(report, rules, done, what) {
  const box = errorBox();
  const toggle = h("button", { type: "button", class: "danger small", "aria-expanded": "false" }, what.label);
  const cancel = h("button", { type: "button", class: "ghost small" }, "Cancel");
  const form = h(
    "form",
    { class: "stack remove-post", hidden: true, "aria-label": `${what.label} reported in report ${report.id}` },
    field({ label: "Rule", name: "rule", list: rules, required: true, autocomplete: "off", value: report.rule }),
    field({ label: "Reason", name: "reason", tag: "textarea", rows: 2, required: true, hint: `Shown to the ${what.told} in their notice, and recorded as the report's resolution.` }),
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
    await removeAndResolve(report, what, { rule: form.rule.value.trim(), reason: form.reason.value.trim() });
    await done();
  });
  return h("div", {}, toggle, form);
}

async function removeAndResolve(report, what, body) {
  try {
    await what.remove(report, body);
  } catch (error) {
    // Removed meanwhile: what is left to do is this report.
    if (!(error instanceof ApiError && error.code === what.already)) throw error;
  }
  await post(`/admin/reports/${q(report.id)}/resolve`, { status: "actioned", reason: body.reason });
  announce(`${what.done} and the report resolved as actioned`);
}
