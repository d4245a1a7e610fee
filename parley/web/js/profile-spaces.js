// A profile's spaces: live now, coming up and past (with their recordings), as anyone may see
// them (GET /spaces?host=). The section stays hidden while the account has none.
import { get, q } from "./api.js";
import { endedCard, liveCard, scheduledCard } from "./cards.js";
import { h } from "./ui.js";

const GROUPS = [
  ["live", "Live now", liveCard],
  ["scheduled", "Coming up", scheduledCard],
  ["ended", "Past spaces", endedCard],
];

export function spacesSection(profile, app) {
  const section = h("section", { class: "profile-spaces", "aria-labelledby": "spaces-h", hidden: true }, h("h2", { id: "spaces-h" }, "Spaces"));
  load(section, profile, app).catch(() => {});
  return section;
}

async function load(section, profile, app) {
  const lists = await Promise.all(GROUPS.map(([state]) => get(`/spaces?host=${q(profile.handle)}&state=${state}&limit=12`)));
  GROUPS.forEach(([, label, card], i) => {
    if (!lists[i].length) return;
    const id = `spaces-${i}-h`;
    section.append(h("h3", { id, class: "group" }, label), h("ul", { class: "grid", "aria-labelledby": id }, lists[i].map((space) => card(space, app))));
  });
  section.hidden = lists.every((list) => !list.length);
}
