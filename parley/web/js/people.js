// Finding people to follow, by part of a handle or a name (GET /accounts?q=): results link to
// profiles, where following is. Searched as one types, after a short pause.
import { get } from "./api.js";
import { automatedLabel } from "./automated.js";
import { avatar, h, plural } from "./ui.js";

const PAUSE_MS = 250;

export function peopleSearch() {
  const input = h("input", { type: "search", id: "people-q", name: "q", maxlength: 50, autocomplete: "off", placeholder: "Handle or name" });
  const status = h("p", { class: "hint", role: "status" });
  const results = h("ul", { class: "people", "aria-label": "People found" });
  let timer = null;
  let asked = 0;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) {
      results.replaceChildren();
      status.textContent = "";
      return;
    }
    const found = await get(`/accounts?q=${encodeURIComponent(q)}`).catch(() => null);
    if (mine !== asked) return; // a later search answered first, or will
    results.replaceChildren(...(found || []).map(personItem));
    status.textContent = found === null ? "Search is not available right now." : found.length ? plural(found.length, "person", "people") + " found" : `Nobody found for “${q}”.`;
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, PAUSE_MS);
  });
  const form = h("form", { class: "people-search", role: "search" }, h("label", { for: "people-q" }, "Find people"), input);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
  return h("section", { "aria-labelledby": "people-h" }, h("h2", { id: "people-h" }, "People"), form, status, results);
}

function personItem(account) {
  const name = account.display_name || account.handle;
  return h("li", {}, h("a", { href: `#/u/${account.handle}`, class: "person" }, avatar(name, { size: "sm" }), h("span", { class: "who" }, name), " ", h("span", { class: "handle" }, `@${account.handle}`)), automatedLabel(account.automated));
}
