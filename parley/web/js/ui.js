// Small DOM helpers: element building, announcements for screen readers, avatars, dates.

// h("button", {class: "primary", onclick}, "Sign in") -> element. Attributes starting with "on"
// are listeners; `false`/`null` attributes are left out; children may be nested arrays. `style`
// goes through the CSSOM: the Content-Security-Policy refuses style attributes (no inline style).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") el.style.cssText = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = !!value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A labelled form field: field({label: "Handle", name: "handle", ...inputAttrs}).
export function field({ label, hint, tag = "input", options, ...attrs }) {
  const id = attrs.id || uid("f");
  const hintId = hint ? `${id}-hint` : null;
  let control;
  if (tag === "select") {
    control = h(
      "select",
      { id, "aria-describedby": hintId, ...attrs },
      (options || []).map(([value, text]) => h("option", { value, selected: value === attrs.value }, text)),
    );
  } else {
    control = h(tag, { id, "aria-describedby": hintId, ...attrs });
  }
  return h(
    "div",
    { class: `field${attrs.type === "checkbox" ? " check" : ""}` },
    attrs.type === "checkbox" ? [control, h("label", { for: id }, label)] : [h("label", { for: id }, label), control],
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

// Screen-reader announcements (the polite live region in index.html), also shown as a toast.
export function announce(text, { assertive = false, toast = true } = {}) {
  const region = document.getElementById(assertive ? "alerts" : "announcements");
  if (region) {
    region.textContent = "";
    // A fresh text node after a tick, so repeating the same message is announced again.
    setTimeout(() => (region.textContent = text), 50);
  }
  if (toast) showToast(text, assertive);
}

function showToast(text, urgent) {
  const shelf = document.getElementById("toasts");
  if (!shelf) return;
  const item = h("div", { class: `toast${urgent ? " urgent" : ""}`, "aria-hidden": "true" }, text);
  shelf.append(item);
  setTimeout(() => item.classList.add("leaving"), 3500);
  setTimeout(() => item.remove(), 4000);
}

// An inline error box for a form or panel.
// A form folded under a summary line: its controls, an error box and the submit button, in that
// order. The caller wires the submission (onSubmit with `box`) and folds it again when done.
export function foldedForm({ summary, controls, submit, formClass = "stack", submitClass = "secondary small", detailsClass }) {
  const box = errorBox();
  const form = h("form", { class: formClass }, controls, box, h("button", { type: "submit", class: submitClass }, submit));
  const details = h("details", { class: detailsClass }, h("summary", {}, summary), form);
  return { details, form, box };
}

export function errorBox() {
  const box = h("p", { class: "error", role: "alert", hidden: true });
  box.show = (error) => {
    box.textContent = error ? error.message || String(error) : "";
    box.hidden = !error;
  };
  return box;
}

export function initials(name) {
  const words = String(name || "?")
    .replace(/^@/, "")
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[1][0] : (words[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

// A stable soft colour per handle.
export function hue(name) {
  let n = 0;
  for (const c of String(name)) n = (n * 31 + c.codePointAt(0)) % 360;
  return n;
}

// A person's avatar: their colour comes from the handle, so that it is theirs on every screen,
// whether or not the screen knows their display name; the letters are the name's when given.
export function avatar(handle, { size = "md", speaking = false, name = "" } = {}) {
  return h(
    "span",
    {
      class: `avatar ${size}${speaking ? " speaking" : ""}`,
      style: `--hue: ${hue(String(handle).replace(/^@/, ""))}`,
      "aria-hidden": "true",
    },
    initials(name || handle),
  );
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// A scheduled space's time, as its badge says it: a host running late has until the server
// calls the space off (PARLEY_SCHEDULE_LAPSE_HOURS after its time), and the page says it is late
// rather than that it starts in the past.
export function due(iso, { starts = "" } = {}) {
  if (!iso) return "";
  return new Date(iso).getTime() <= Date.now() ? `Was due ${when(iso)}` : `${starts}${when(iso)}`;
}

export function ago(iso) {
  if (!iso) return "";
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return when(iso);
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

// What cannot be undone, asked once more in place: `label` shows `question` with `yes` (which
// runs `work`, busy, its errors shown) and `keep` (which puts things back); the focus goes to
// `keep`, the safe answer, and back to `label`. -> the element, of class `cls`.
export function confirmInPlace({ label, question, yes, keep, work, cls, labelAttrs = {} }) {
  const box = errorBox();
  const ask = h("button", { type: "button", class: "ghost small", ...labelAttrs }, label);
  const yesButton = h("button", { type: "button", class: "danger small" }, yes);
  const keepButton = h("button", { type: "button", class: "ghost small" }, keep);
  const confirm = h("div", { class: "actions", hidden: true }, h("span", {}, question), yesButton, keepButton);
  const answer = (asking) => {
    ask.hidden = asking;
    confirm.hidden = !asking;
    (asking ? keepButton : ask).focus();
  };
  ask.addEventListener("click", () => answer(true));
  keepButton.addEventListener("click", () => answer(false));
  onClick(yesButton, box, work);
  return h("div", { class: cls }, ask, confirm, box);
}

// On submit, without reloading the page: `work()` runs busy on `button` (the form's first
// button unless given), its errors shown in `box`.
export function onSubmit(form, box, work, button = form.querySelector("button")) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, work, box);
  });
}

// A list that is searched or filtered shows the answer to what was asked last: an answer that an
// earlier ask brings back late (the page's first list, a refresh after an action) is dropped
// rather than drawn over the later one. `ask(...)` fetches; `draw(answer)` shows.
export function lastAsked(ask, draw) {
  let asked = 0;
  return async (...args) => {
    const mine = ++asked;
    const answer = await ask(...args);
    if (mine === asked) draw(answer);
  };
}

// On a click: `work()` runs busy on the button, its errors shown in `box` (or announced).
export function onClick(button, box, work) {
  button.addEventListener("click", () => busy(button, work, box));
}

// Runs `work` with the button disabled and marked busy; errors go to `box` (or an announcement).
// The button stays focusable while busy (aria-disabled, not disabled), so keyboard focus is not
// thrown back to the top of the page; a second press while busy does nothing.
export async function busy(button, work, box = null) {
  if (button) {
    if (button.dataset.busy) return undefined;
    button.dataset.busy = "1";
    button.setAttribute("aria-disabled", "true");
    button.setAttribute("aria-busy", "true");
  }
  box?.show(null);
  try {
    return await work();
  } catch (error) {
    if (box) box.show(error);
    else announce(error.message || String(error), { assertive: true });
    return undefined;
  } finally {
    if (button) {
      delete button.dataset.busy;
      button.removeAttribute("aria-disabled");
      button.removeAttribute("aria-busy");
    }
  }
}
