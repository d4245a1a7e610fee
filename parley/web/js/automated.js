// The "Automated" label: on every account the server marks as a bot (`automated: {owner}`),
// wherever it appears (posts, profiles, a space's stage and audience), naming the person who
// answers for it. And the place a post carries, as text (no map tiles fetched from anywhere).
import { h } from "./ui.js";

export function automatedLabel(automated) {
  if (!automated?.owner?.handle) return null;
  const owner = automated.owner.handle;
  return h(
    "span",
    { class: "badge automated", title: `An automated account run by @${owner}` },
    "Automated",
    h("span", { class: "owner" }, " · run by ", h("a", { href: `#/u/${owner}` }, `@${owner}`)),
  );
}

const COORDINATE = new Intl.NumberFormat("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 });

function degrees(value, positive, negative) {
  return `${COORDINATE.format(Math.abs(value))}° ${value >= 0 ? positive : negative}`;
}

// "N628TS at 30.1755° N, 97.6700° W, seen 2026-11-27 17:42 UTC"
export function placeText(place) {
  // In UTC, as the observation was (an aircraft's position is read against UTC times).
  const when = new Date(place.observed_at).toISOString().slice(0, 16).replace("T", " ");
  return `${place.label} at ${degrees(place.latitude, "N", "S")}, ${degrees(place.longitude, "E", "W")}, seen ${when} UTC`;
}

export function placeLine(place) {
  if (!place) return null;
  return h("p", { class: "post-place" }, h("span", { class: "visually-hidden" }, "Place: "), h("span", { "aria-hidden": "true" }, "⌖ "), placeText(place));
}
