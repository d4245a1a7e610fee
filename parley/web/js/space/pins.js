// Posts pinned above the stage (the latest first): everyone reads them; the host and cohosts
// pin one of their recent posts and unpin any. The list comes from GET /spaces/{id}/pins, fetched
// again on each `pins_changed`, so every link is the server's redirector, checked at the click.
import { del, get, post, q } from "../api.js";
import { may } from "../permissions.js";
import { renderPostText } from "../posts.js";
import { foldedForm, h, onSubmit } from "../ui.js";
import { act, button } from "./common.js";

export function buildPins(room) {
  const list = h("ul", { class: "pins-list", "aria-label": "Pinned posts" });
  const choice = h("select", { id: "pin-choice", name: "post_id" });
  const { details, form, box } = foldedForm({
    summary: "Pin a post",
    controls: [h("label", { for: "pin-choice" }, "Your post"), choice],
    submit: "Pin",
    formClass: "inline-form",
    detailsClass: "pin-form",
  });
  // Your recent posts, asked for as the form opens (most people in a room never open it).
  details.addEventListener("toggle", async () => {
    if (!details.open) return;
    const mine = await get(`/accounts/${q(room.me.handle)}/posts?limit=10`).catch(() => []);
    choice.replaceChildren(...mine.map((p) => h("option", { value: p.id }, p.text.length > 60 ? `${p.text.slice(0, 59)}…` : p.text)));
    if (!mine.length) choice.append(h("option", { value: "", disabled: true }, "You have no posts yet"));
  });
  onSubmit(form, box, async () => {
    if (!choice.value) return;
    await post(room.path("/pins"), { post_id: choice.value });
    details.open = false;
  });
  const section = h("section", { class: "panel pins", "aria-labelledby": "pins-h", hidden: true }, h("h2", { id: "pins-h" }, "Pinned"), list, details);
  return { section, list, details };
}

export async function loadPins(room) {
  // Two changes in a row fetch twice; only the later answer is shown, whichever comes first.
  const ticket = (room.pinsAsked = (room.pinsAsked || 0) + 1);
  let pins;
  try {
    pins = room.space.pinned?.length ? await get(room.path("/pins")) : [];
  } catch {
    return; // the next pins_changed tries again
  }
  if (ticket !== room.pinsAsked) return;
  room.pins = pins;
  drawPins(room);
}

function pinItem(room, p) {
  const unpin = may(room.myRole(), "pin")
    ? button("Unpin", `unpin:${p.id}`, (b) => act(b, () => del(room.path(`/pins/${q(p.id)}`)), "Unpinned"), "small secondary")
    : null;
  return h("li", { class: "post pinned-post", "data-id": p.id }, h("header", {}, h("a", { class: "who", href: `#/u/${p.author.handle}` }, p.author.display_name || p.author.handle), h("span", { class: "handle" }, `@${p.author.handle}`), unpin), renderPostText(p));
}

export function drawPins(room) {
  const { section, list, details } = room.view.pins;
  const pins = room.pins || [];
  const pinning = may(room.myRole(), "pin");
  // Keyed by the pins and the viewer's role: redrawn only when one of them changes, so a link
  // or an Unpin button keeps focus through the room's other events.
  const key = JSON.stringify([pins.map((p) => p.id), pinning]);
  if (list.dataset.shown !== key) {
    list.dataset.shown = key;
    list.replaceChildren(...pins.map((p) => pinItem(room, p)));
  }
  details.hidden = !pinning;
  section.hidden = !pins.length && !pinning;
}
