// Search from the home page: people by part of a handle or a name (GET /accounts?q=), and live
// and scheduled spaces by title or topic (GET /spaces?q=). Searched as one types, after a short
// pause; an answer overtaken by a later search is dropped.
import { get } from "./api.js";
import { automatedLabel } from "./automated.js";
import { liveCard, scheduledCard } from "./cards.js";
import { avatar, h, lastAsked, plural } from "./ui.js";

const PAUSE_MS = 250;

export function searchSection(app) {
  const input = h("input", { type: "search", id: "search-q", name: "q", maxlength: 50, autocomplete: "off", placeholder: "A name, a handle, a title or a topic" });
  const status = h("p", { class: "hint", role: "status" });
  const results = h("div", { class: "search-results" });
  let timer = null;
  const search = lastAsked(
    async () => {
      const q = input.value.trim();
      return { q, found: q ? await find(q).catch(() => null) : null };
    },
    ({ q, found }) => {
      if (q) return show(results, status, found, q, app);
      results.replaceChildren();
      status.textContent = "";
    },
  );
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, PAUSE_MS);
  });
  const form = h("form", { class: "people-search", role: "search" }, h("label", { for: "search-q" }, "Search people and spaces"), input);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
  return h("section", { "aria-labelledby": "search-h" }, h("h2", { id: "search-h" }, "Find people and spaces"), form, status, results);
}

async function find(q) {
  const text = encodeURIComponent(q);
  const [people, live, scheduled] = await Promise.all([get(`/accounts?q=${text}`), get(`/spaces?state=live&q=${text}`), get(`/spaces?state=scheduled&q=${text}`)]);
  return { people, live, scheduled };
}

function show(results, status, found, q, app) {
  if (found === null) {
    results.replaceChildren();
    status.textContent = "Search is not available right now.";
    return;
  }
  const { people, live, scheduled } = found;
  const spaces = [...live.map((s) => liveCard(s, app)), ...scheduled.map((s) => scheduledCard(s, app))];
  results.replaceChildren(
    people.length ? h("ul", { class: "people", "aria-label": "People found" }, people.map(personItem)) : "",
    spaces.length ? h("ul", { class: "grid", "aria-label": "Spaces found" }, spaces) : "",
  );
  const counts = [people.length ? plural(people.length, "person", "people") : "", spaces.length ? plural(spaces.length, "space") : ""].filter(Boolean);
  status.textContent = counts.length ? `${counts.join(" and ")} found` : `Nothing found for “${q}”.`;
}

function personItem(account) {
  const name = account.display_name || account.handle;
  return h("li", {}, h("a", { href: `#/u/${account.handle}`, class: "person" }, avatar(account.handle, { size: "sm", name }), h("span", { class: "who" }, name), " ", h("span", { class: "handle" }, `@${account.handle}`)), automatedLabel(account.automated));
}
