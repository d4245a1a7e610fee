// Live captions under the stage: each speaker's latest words with their name, partial lines
// replaced as the recognizer firms them up. On by default; the toggle is remembered on this
// device. Screen readers hear only final lines, politely, from a region of their own: partials
// change several times a second and would drown everything else out. Where the instance makes
// no live captions (GET /status says so) there is no toggle, nor an empty box under the stage.
import { instanceStatus } from "../api.js";
import { h } from "../ui.js";

const KEY = "parley.captions";
const LINES = 3; // shown at once: the latest line of the last few speakers
const FADE_MS = 8000; // a final line stays this long after it was said

export const captionsOn = () => localStorage.getItem(KEY) !== "off";

// Unknown counts as on, as the toggle was before the status said.
const instanceCaptions = () =>
  instanceStatus().then(
    (status) => status.live_captions !== false,
    () => true,
  );

export function buildCaptions(room) {
  const toggle = h("input", { type: "checkbox", id: "captions-toggle", checked: captionsOn() });
  const lines = h("ol", { class: "caption-lines", "aria-hidden": "true" });
  const spoken = h("div", { class: "visually-hidden", role: "log", "aria-live": "polite", "aria-label": "Caption log" });
  const idle = h("p", { class: "captions-idle" }, "What the speakers say shows here.");
  const box = h("div", { class: "captions", hidden: !captionsOn() }, lines, idle);
  toggle.addEventListener("change", () => {
    localStorage.setItem(KEY, toggle.checked ? "on" : "off");
    box.hidden = !toggle.checked;
    if (!toggle.checked) spoken.replaceChildren();
  });
  const row = h("p", { class: "captions-toggle" }, toggle, " ", h("label", { for: "captions-toggle" }, "Captions"));
  room.captions = { lines, spoken, box, toggle, current: new Map() };
  const area = h("div", { class: "captions-area", hidden: true }, row, box, spoken);
  instanceCaptions().then((on) => {
    area.hidden = !on;
  });
  return area;
}

function speakerName(room, id) {
  const p = room.people.get(id);
  if (!p) return "Someone";
  return room.names.get(p.handle) || `@${p.handle}`;
}

export function showCaption(room, data) {
  const c = room.captions;
  if (!c || !c.toggle.checked || !data.text) return;
  const name = speakerName(room, data.speaker);
  const previous = c.current.get(data.speaker);
  // A final line ends that speaker's phrase; their next words start a new line.
  const line = previous && !previous.final ? previous : { el: h("li", { class: "caption" }) };
  line.final = data.final;
  line.at = Date.now();
  line.el.replaceChildren(h("span", { class: "caption-name" }, `${name}: `), h("span", { class: data.final ? "caption-text" : "caption-text partial" }, data.text));
  c.current.set(data.speaker, line);
  if (!line.el.isConnected) c.lines.append(line.el);
  while (c.lines.children.length > LINES) c.lines.firstElementChild.remove();
  if (data.final) {
    c.spoken.append(h("p", {}, `${name}: ${data.text}`));
    while (c.spoken.children.length > LINES) c.spoken.firstElementChild.remove();
    setTimeout(() => {
      if (Date.now() - line.at >= FADE_MS) line.el.remove();
    }, FADE_MS);
  }
}
