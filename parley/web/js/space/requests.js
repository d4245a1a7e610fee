// The host's queue: listeners who raised a hand, each with Approve and Deny for those who may
// invite (the host and cohosts, who alone see this panel).
import { del, post, q } from "../api.js";
import { moderates } from "../permissions.js";
import { act, button, nameOf, personRow } from "./common.js";
import { reconcile } from "./focus.js";

function requestItem(room, p) {
  const nameId = `request-${p.account_id}`;
  const them = (rest) => room.path(`${rest}/${q(p.handle)}`);
  const tools = [];
  if (moderates(room.myRole())) {
    tools.push(button("Approve", `approve:${p.handle}`, (b) => act(b, () => post(them("/speakers")), `${nameOf(p)} is on stage`), "small primary", { "aria-describedby": nameId }));
    tools.push(button("Deny", `deny:${p.handle}`, (b) => act(b, () => del(them("/speakers")), `Declined ${nameOf(p)}'s request`), "small secondary", { "aria-describedby": nameId }));
  }
  return personRow(p, { nameId, isMe: p.account_id === room.me.id, tools });
}

export function drawRequests(room, requests) {
  const { requestsSection, requestsList } = room.view;
  requestsSection.hidden = !moderates(room.myRole());
  requestsSection.querySelector(".pill-count").textContent = requests.length ? String(requests.length) : "";
  // Keyed by the viewer's role too: a speaker made cohost gets the buttons on requests already
  // listed (the list is kept, hidden, for every role).
  const viewer = room.myRole();
  reconcile(requestsList, requests.map((p) => [p.account_id, viewer, () => requestItem(room, p)]), "No requests right now");
}
