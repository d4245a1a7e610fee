// The audit log: what moderators, operators and the system did, newest first, said in words,
// and filtered by what was done.
import { heading, table } from "./admin-panel.js";
import { get, q } from "./api.js";
import { ACTIONS } from "./audit-actions.js";
import { busy, errorBox, h, lastAsked, when } from "./ui.js";

function entry(r) {
  const actor = r.actor_handle ? `@${r.actor_handle}` : r.actor_id || "system";
  const target = r.target_handle ? `@${r.target_handle}` : `${r.target_type || ""} ${r.target_id || ""}`;
  return h("tr", {}, h("td", {}, when(r.at)), h("td", {}, actor), h("td", {}, ACTIONS[r.action] || r.action), h("td", {}, target), h("td", {}, r.rule || "—"), h("td", {}, r.reason || "—"));
}

export async function audit(panel) {
  panel.append(...heading("Audit log", "Append-only: newest first. Nothing here can be changed or deleted."));
  const box = errorBox();
  const results = h("div");
  const choices = Object.entries(ACTIONS).map(([code, words]) => h("option", { value: code }, words));
  const form = h("form", { class: "inline-form" }, h("label", { for: "audit-action" }, "Action"), h("select", { id: "audit-action", name: "action" }, h("option", { value: "" }, "All actions"), ...choices), h("button", { type: "submit", class: "secondary small" }, "Filter"));
  panel.append(form, box, results);
  const load = lastAsked(
    () => {
      const action = form.action.value;
      return get(`/admin/audit?limit=100${action ? `&action=${q(action)}` : ""}`);
    },
    (rows) => results.replaceChildren(rows.length ? table(["When", "Actor", "Action", "Target", "Rule", "Reason"], rows.map(entry), "Audit log entries") : h("p", { class: "empty" }, "No entries.")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), load, box);
  });
  await load();
}
