// The audience: every listener, with a raised hand shown, and Invite and Remove for those whose
// role allows them (permissions.js).
import { post, q } from "../api.js";
import { mayOn, moderates } from "../permissions.js";
import { h } from "../ui.js";
import { act, button, nameOf, personRow } from "./common.js";
import { reconcile } from "./focus.js";
import { learnName } from "./stage.js";

function tools(room, p, nameId) {
  const viewer = room.myRole();
  if (p.account_id === room.me.id) return [];
  const them = (rest) => room.path(`${rest}/${q(p.handle)}`);
  const found = [];
  if (moderates(viewer)) {
    if (p.invited) found.push(h("span", { class: "tag" }, "Invited"));
    else if (!p.hand_raised) found.push(button("Invite to speak", `invite:${p.handle}`, (b) => act(b, () => post(them("/speakers")), `Invited ${nameOf(p)} to speak`), "small secondary", { "aria-describedby": nameId }));
  }
  if (mayOn(viewer, "remove", p.role)) found.push(button("Remove", `remove:${p.handle}`, (b) => act(b, () => post(them("/remove")), `Removed ${nameOf(p)}`), "small danger", { "aria-describedby": nameId }));
  return found;
}

// Listeners who joined by an event come without their Automated label (events carry none): in
// a small audience each is looked up once, as the stage's people are; a large one shows labels
// from the listener list the client fetches when it (re)synchronises.
const LOOK_UP_AT_MOST = 200;

function audienceItem(room, p) {
  const nameId = `audience-${p.account_id}`;
  const automated = p.automated || room.bots.get(p.handle);
  return personRow({ ...p, automated }, { nameId, isMe: p.account_id === room.me.id, tools: tools(room, p, nameId) });
}

export function drawAudience(room, audience) {
  const viewer = room.myRole();
  if (audience.length <= LOOK_UP_AT_MOST) for (const p of audience) if (!p.automated) learnName(room, p.handle);
  reconcile(
    room.view.audienceList,
    audience.map((p) => [p.account_id, [viewer, p.hand_raised, p.invited, !!(p.automated || room.bots.get(p.handle))].join("|"), () => audienceItem(room, p)]),
    "No listeners yet",
  );
}
