// Post text with its links. Links go through the server's redirector (/l/{id}) when it has one,
// so the link is checked again when clicked; until then (or without one) they show as text
// links marked as user content.
import { safeHref } from "./api.js";
import { h } from "./ui.js";

// Scheme URLs, www. hosts and bare domains with a common suffix; trailing punctuation left out.
const URL_RE = /\b((?:https?:\/\/|www\.)[^\s<>"]+|[a-z0-9.-]+\.(?:com|org|net|io|dev|co|uk|de|fr|app|info|ly|gl|me)(?:\/[^\s<>"]*)?)/gi;

export function renderPostText(text) {
  const p = h("p", { class: "post-text" });
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0].replace(/[.,;:!?)\]]+$/, "");
    const start = match.index;
    p.append(text.slice(last, start));
    const target = /^https?:\/\//i.test(url) ? url : `https://${url}`;
    const link = h("a", { href: target, rel: "nofollow ugc noopener noreferrer" }, url);
    safeHref(target).then((href) => {
      if (href) {
        link.href = href;
        link.dataset.redirector = "1";
      }
    });
    p.append(link);
    last = start + url.length;
  }
  p.append(text.slice(last));
  return p;
}
