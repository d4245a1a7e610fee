// What every panel of the admin console is drawn with: its heading, a queue's list or its empty
// note, a table, the rules offered, and a queue drawn again after an action on one of its items.
import { get } from "./api.js";
import { h } from "./ui.js";

const RULES = ["spam", "harassment", "hate", "violence", "impersonation", "scam", "malware", "other"];

export function heading(text, note) {
  return [h("h2", { id: "admin-h2" }, text), note ? h("p", { class: "hint" }, note) : null];
}

// A panel's heading and its waiting items, or null when there are none (said so in the panel).
export async function queue(panel, title, path, empty) {
  panel.append(...title);
  const list = await get(path);
  if (list.length) return list;
  panel.append(h("p", { class: "empty" }, empty));
  return null;
}

export function ruleList(id) {
  return h("datalist", { id }, RULES.map((r) => h("option", { value: r })));
}

export function table(headers, rows, caption) {
  const head = headers.map((c) => h("th", { scope: "col" }, c || h("span", { class: "visually-hidden" }, "Actions")));
  return h("div", { class: "table-wrap" }, h("table", {}, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, head)), h("tbody", {}, rows)));
}

// A queue drawn again after an action on one of its items: the focus goes to its heading, not
// to the page (the button that had it went with the item).
export function drawnAgain(panel, draw) {
  return async () => {
    panel.replaceChildren();
    await draw(panel);
    const title = panel.querySelector("h2");
    title.setAttribute("tabindex", "-1");
    title.focus();
  };
}
