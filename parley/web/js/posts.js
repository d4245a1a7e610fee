// User text as the server sends it: `*_parts`, runs of plain text and links. A link's href is
// the server's redirector (/l/{id}), which checks the link again when clicked, for every reader,
// signed in or not. The client never makes links out of text itself: what is a link, and where it
// goes, is the server's decision (so a rule added later, or a scheme it refuses, holds here too).
import { h } from "./ui.js";

const REDIRECTOR = /^\/l\/[0-9a-f]+$/;

// Nodes for `parts`; without them (an older server, an event without parts) the plain text.
export function textNodes(parts, text = "") {
  if (!Array.isArray(parts)) return [text || ""];
  return parts.map((part) =>
    typeof part.href === "string" && REDIRECTOR.test(part.href)
      ? h("a", { href: part.href, rel: "nofollow ugc noopener noreferrer", "data-redirector": "1" }, part.text)
      : String(part.text ?? ""),
  );
}

// Fill `el` with the text, its links included; returns `el`.
export function showText(el, parts, text = "") {
  el.replaceChildren(...textNodes(parts, text));
  return el;
}

export function renderPostText(post) {
  return showText(h("p", { class: "post-text" }), post.text_parts, post.text);
}
