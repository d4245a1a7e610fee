// The activity log (who joined, left, asked to speak, reacted...) and floating reactions.
import { h } from "../ui.js";

const ACTIVITY_LIMIT = 60;

export function log(room, text) {
  const { activity } = room.view;
  const now = new Date();
  const item = h("li", {}, h("time", { datetime: now.toISOString() }, now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })), " ", text);
  activity.prepend(item);
  while (activity.children.length > ACTIVITY_LIMIT) activity.lastChild.remove();
}

// An emoji that rises over the room for four seconds, at a random place across it (set through
// the CSSOM: the Content-Security-Policy refuses style attributes).
export function floatReaction(room, emoji, who) {
  const bubble = h("span", { class: "reaction-float", style: `--x: ${10 + Math.random() * 80}%`, "data-emoji": emoji, title: who }, emoji);
  room.view.floats.append(bubble);
  setTimeout(() => bubble.remove(), 4000);
}
