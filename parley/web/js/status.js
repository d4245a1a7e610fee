// The public status page: which features are on (and the admins' message when one is off),
// whether live spaces are captioned (the operator's setting), and the location policy posts'
// places obey.
import { get } from "./api.js";
import { policySummary } from "./location-policy.js";
import { h } from "./ui.js";

const LABELS = { spaces: "Spaces", "spaces.create": "Creating spaces" };

export async function render(main) {
  const status = await get("/status");
  const features = Object.entries(status.features || {}).map(([name, f]) =>
    h("li", {}, h("strong", {}, LABELS[name] || name), f.enabled === false ? ` — off: ${f.message || "switched off for now"}` : " — on"),
  );
  const captions = h("li", {}, h("strong", {}, "Live captions"), status.live_captions === false ? " — off on this instance" : " — on");
  main.append(
    h(
      "section",
      { class: "page narrow status-page" },
      h("h1", { tabindex: "-1" }, "Status"),
      h(
        "section",
        { class: "card", "aria-labelledby": "features-h" },
        h("h2", { id: "features-h" }, "Features"),
        h("ul", { class: "features" }, features, captions),
      ),
      h("section", { class: "card", "aria-labelledby": "location-h" }, h("h2", { id: "location-h" }, "Location policy"), policySummary(status.location_policy)),
    ),
  );
}
