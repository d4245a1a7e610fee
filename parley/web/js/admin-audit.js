// The audit log: what moderators, operators and the system did, newest first, said in words,
// and filtered by what was done.
import { heading, table } from "./admin-panel.js";
import { get, q } from "./api.js";
import { ACTIONS } from "./audit-actions.js";
import { announce, busy, errorBox, h, lastAsked, when } from "./ui.js";

function entry(r) {
  const actor = r.actor_handle ? `@${r.actor_handle}` : r.actor_id || "system";
  const target = r.target_handle ? `@${r.target_handle}` : `${r.target_type || ""} ${r.target_id || ""}`;
  return h("tr", {}, h("td", {}, when(r.at)), h("td", {}, actor), h("td", {}, ACTIONS[r.action] || r.action), h("td", {}, target), h("td", {}, r.rule || "—"), h("td", {}, r.reason || "—"));
}

// Entries a page: the log grows with the instance, so older ones come on asking.
const PAGE = 100;
const HEADERS = ["When", "Actor", "Action", "Target", "Rule", "Reason"];

export async function audit(panel) {
  panel.append(...heading("Audit log", "Append-only: newest first. Nothing here can be changed or deleted."));
  const box = errorBox();
  const results = h("div");
  const choices = Object.entries(ACTIONS).map(([code, words]) => h("option", { value: code }, words));
  const form = h("form", { class: "inline-form" }, h("label", { for: "audit-action" }, "Action"), h("select", { id: "audit-action", name: "action" }, h("option", { value: "" }, "All actions"), ...choices), h("button", { type: "submit", class: "secondary small" }, "Filter"));
  // One button for older entries, kept across pages so that the focus stays on it; it says when
  // the log's first entry is shown rather than vanishing under the keyboard's focus.
  const older = h("button", { type: "button", class: "secondary small older", hidden: true }, "Older entries");
  const olderBox = errorBox();
  panel.append(form, box, results, older, olderBox);
  // What is shown: the filter it was asked with (not the list's current choice), the oldest id.
  let shown = { path: "", oldest: null, done: true };
  const showOlder = (rows) => {
    shown = { ...shown, oldest: rows.length ? rows[rows.length - 1].id : shown.oldest, done: rows.length < PAGE };
    older.textContent = shown.done ? "No older entries" : "Older entries";
    older.setAttribute("aria-disabled", String(shown.done));
  };
  const load = lastAsked(
    () => {
      const action = form.action.value;
      shown = { path: `/admin/audit?limit=${PAGE}${action ? `&action=${q(action)}` : ""}`, oldest: null, done: true };
      return get(shown.path);
    },
    (rows) => {
      results.replaceChildren(rows.length ? table(HEADERS, rows.map(entry), "Audit log entries") : h("p", { class: "empty" }, "No entries."));
      showOlder(rows);
      older.hidden = shown.done; // a first page that is the whole log offers no more
      olderBox.show(null);
    },
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), load, box);
  });
  const fetchOlder = async () => {
    const asked = shown;
    const rows = await get(`${asked.path}&before_id=${asked.oldest}`);
    if (asked !== shown) return; // filtered anew meanwhile
    results.querySelector("tbody").append(...rows.map(entry));
    showOlder(rows);
    announce(shown.done ? `${rows.length} older entries; the log's first entry is shown` : `${rows.length} older entries`);
  };
  older.addEventListener("click", async () => {
    if (shown.done) return;
    await busy(older, fetchOlder, olderBox);
    older.setAttribute("aria-disabled", String(shown.done)); // busy() took its own off
  });
  await load();
}
