// The location policy: how long after a place was observed a post may publish it, for every
// account alike. Public on the status page; moderators set it in the admin console (audited).
import { heading } from "./admin-panel.js";
import { api, get } from "./api.js";
import { announce, errorBox, field, h, onSubmit, when } from "./ui.js";

function span(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} ${seconds === 86400 ? "day" : "days"}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export function policyText(policy) {
  if (!policy || !policy.delay_seconds) return "Places in posts may be published as soon as they are observed.";
  return `Places in posts may be published ${span(policy.delay_seconds)} after they were observed (rule ${policy.rule}): ${policy.reason}`;
}

export function policySummary(policy) {
  return h(
    "div",
    { class: "policy" },
    h("p", { class: "policy-text" }, policyText(policy)),
    policy?.updated_at ? h("p", { class: "hint" }, `Last changed ${when(policy.updated_at)}. Posts whose place is too recent are refused, or held until then if their author asks.`) : null,
  );
}

export async function policyPanel(panel) {
  panel.append(...heading("Location policy", "Applies to every account, moderators' and yours included. Every change is in the audit log and counted in the transparency report."));
  const current = h("div");
  const box = errorBox();
  const policy = await get("/admin/policies/location");
  current.replaceChildren(policySummary(policy));
  const form = h(
    "form",
    { class: "stack" },
    field({ label: "Delay (hours)", name: "hours", type: "number", min: 0, max: 8784, step: "any", value: String(policy.delay_seconds / 3600), hint: "Least time between a place's observation and its publication; 0 for none." }),
    field({ label: "Rule", name: "rule", value: policy.rule === "none" ? "" : policy.rule, maxlength: 64, placeholder: "e.g. aircraft-positions" }),
    field({ label: "Reason (what a refused author is told)", name: "reason", tag: "textarea", rows: 2, maxlength: 1000 }),
    box,
    h("button", { type: "submit", class: "primary small" }, "Save policy"),
  );
  form.reason.value = policy.reason || "";
  onSubmit(form, box, async () => {
    const delay_seconds = Math.round(Number(form.hours.value || 0) * 3600);
    const saved = await api("PUT", "/admin/policies/location", { delay_seconds, rule: form.rule.value.trim(), reason: form.reason.value.trim() });
    current.replaceChildren(policySummary(saved));
    announce("Location policy saved");
  });
  panel.append(current, form);
}
