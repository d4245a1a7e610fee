// Rendering keyed so focus survives updates. Redraws replace only what changed, but a control
// can vanish under keyboard focus (an approved request leaves the queue): focus then moves to the
// heading of its section.
import { h } from "../ui.js";

export function remember(main) {
  const el = document.activeElement;
  if (!el || !main.contains(el) || !el.dataset.key) return null;
  return { key: el.dataset.key, section: el.closest("section") };
}

export function restore(main, saved) {
  if (!saved) return;
  const el = main.querySelector(`[data-key="${CSS.escape(saved.key)}"]`);
  if (el) {
    if (document.activeElement !== el) el.focus();
    return;
  }
  if (main.contains(document.activeElement) && document.activeElement !== document.body) return;
  const heading = saved.section?.isConnected ? saved.section.querySelector("h2") : null;
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

// Replaces the children of `list` with `items` ([key, signature, build]), rebuilding only
// what changed.
export function reconcile(list, items, empty) {
  const existing = new Map([...list.children].map((el) => [el.dataset.rkey, el]));
  const next = [];
  for (const [key, signature, build] of items) {
    let el = existing.get(key);
    if (!el || el.dataset.sig !== signature) {
      el = build();
      el.dataset.rkey = key;
      el.dataset.sig = signature;
    }
    next.push(el);
  }
  if (!items.length && empty) {
    const placeholder = existing.get("empty") || h("li", { class: "empty", "data-rkey": "empty" }, empty);
    next.push(placeholder);
  }
  const same = next.length === list.children.length && next.every((el, i) => list.children[i] === el);
  if (!same) list.replaceChildren(...next);
}
