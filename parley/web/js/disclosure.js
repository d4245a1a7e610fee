// A button that shows and hides the panel after it (the WAI-ARIA disclosure pattern): the
// header's menu and the control bar's tray on phones. The focus stays on the button as it opens,
// and Tab goes on into the panel, which follows it. Escape closes it and gives the focus back to
// the button; a tap elsewhere, or the focus leaving, closes it too. Whoever redraws the button
// (the nav on every route) closes it with that.
import { h } from "./ui.js";

export function disclosure({ id, content, cls = "ghost small", panel, open = false }) {
  const toggle = h("button", { type: "button", class: `disclosure-toggle ${cls}`, "aria-expanded": "false", "aria-controls": id }, content);
  panel.id = id;
  const wrapper = h("div", { class: "disclosure" }, toggle, panel);

  const elsewhere = (event) => {
    if (!wrapper.isConnected || !wrapper.contains(event.target)) show(false);
  };
  function show(open) {
    toggle.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (open) document.addEventListener("click", elsewhere);
    else document.removeEventListener("click", elsewhere);
  }
  show(open);
  toggle.addEventListener("click", () => show(panel.hidden));
  wrapper.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || panel.hidden) return;
    event.stopPropagation();
    show(false);
    toggle.focus();
  });
  wrapper.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !wrapper.contains(event.relatedTarget)) show(false);
  });
  return wrapper;
}
