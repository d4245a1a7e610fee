// The stage: host, cohosts and speakers with their speaking rings and mics, and the tools the
// viewer's role allows on each of them (permissions.js decides which).
import { del, get, post, q } from "../api.js";
import { may, mayOn } from "../permissions.js";
import { automatedLabel } from "../automated.js";
import { avatar, h } from "../ui.js";
import { ROLE_NAMES, act, button, micIcon, nameOf } from "./common.js";
import { reconcile } from "./focus.js";

// What a stage item shows: it is rebuilt only when this changes.
function signature(room, person, id) {
  return [room.myRole(), person?.role, person?.muted, person?.audio_lost, room.active.has(id), room.names.get(person?.handle)].join("|");
}

export function drawStage(room, stage) {
  reconcile(
    room.view.stageList,
    stage.map((p) => {
      learnName(room, p.handle);
      return [p.account_id, signature(room, p, p.account_id), () => stageItem(room, p)];
    }),
    "Nobody on stage yet",
  );
}

// Who is talking, from the mixer: up to five times a second, so the rings change in place and
// nothing is redrawn.
export function showActiveSpeakers(room, accountIds) {
  room.active = new Set(accountIds);
  for (const li of room.view.stageList.children) {
    const person = room.people.get(li.dataset.id);
    const speaking = !!person && room.active.has(li.dataset.id) && !person.muted;
    li.classList.toggle("is-speaking", speaking);
    const label = li.querySelector(".speaking-label");
    if (label) label.textContent = speaking ? "Speaking" : "";
    li.dataset.sig = signature(room, person, li.dataset.id);
  }
}

// A display name, fetched once per handle; the item shows the handle until it comes.
export function learnName(room, handle) {
  if (room.asked.has(handle)) return;
  room.asked.add(handle);
  get(`/accounts/${q(handle)}`)
    .then((profile) => {
      room.names.set(handle, profile.display_name);
      // A bot that came on stage by an event (events carry no label) is labelled from here.
      if (profile.automated) room.bots.set(handle, profile.automated);
      room.draw();
    })
    .catch(() => {});
}

function tools(room, p, nameId) {
  const viewer = room.myRole();
  if (p.account_id === room.me.id) return [];
  const them = (rest) => room.path(`${rest}/${q(p.handle)}`);
  const tool = (label, key, work, done, cls = "small secondary") => button(label, `${key}:${p.handle}`, (b) => act(b, work, done), cls, { "aria-describedby": nameId });
  const found = [];
  if (!p.muted && mayOn(viewer, "mute", p.role)) found.push(tool("Mute", "mute", () => post(them("/mute")), `Muted ${nameOf(p)}`));
  if (may(viewer, "manage_cohosts") && p.role === "speaker") found.push(tool("Make cohost", "cohost", () => post(them("/cohosts")), `${nameOf(p)} is now a cohost`));
  if (may(viewer, "manage_cohosts") && p.role === "cohost") found.push(tool("Demote to speaker", "uncohost", () => del(them("/cohosts"))));
  // The table lets the host do both to anyone, but the host stays on stage and cannot be removed
  // (rules.to_audience, rules.expel).
  if (p.role !== "host" && mayOn(viewer, "move_to_audience", p.role)) found.push(tool("Move to audience", "audience", () => del(them("/speakers")), `${nameOf(p)} moved to the audience`));
  if (p.role !== "host" && mayOn(viewer, "remove", p.role)) found.push(tool("Remove", "remove", () => post(them("/remove")), `Removed ${nameOf(p)}`, "small danger"));
  return found;
}

function stageItem(room, p) {
  const isMe = p.account_id === room.me.id;
  const nameId = `who-${p.account_id}`;
  const found = tools(room, p, nameId);
  const speaking = room.active.has(p.account_id) && !p.muted;
  const shown = room.names.get(p.handle);
  return h(
    "li",
    { class: `member${speaking ? " is-speaking" : ""}${isMe ? " me" : ""}`, "data-id": p.account_id },
    h("span", { class: "ring" }, avatar(p.handle, { size: "lg", name: shown })),
    h("span", { class: "who", id: nameId }, h("span", {}, h("strong", {}, shown || nameOf(p)), isMe ? h("span", { class: "you" }, " (you)") : null), shown ? h("span", { class: "handle" }, nameOf(p)) : null, automatedLabel(p.automated || room.bots.get(p.handle))),
    h("span", { class: `role role-${p.role}` }, ROLE_NAMES[p.role]),
    p.audio_lost ? h("span", { class: "mic lost" }, "Reconnecting…") : h("span", { class: `mic ${p.muted ? "off" : "on"}` }, micIcon(p.muted), p.muted ? "Muted" : "Mic on"),
    h("span", { class: "speaking-label visually-hidden" }, speaking ? "Speaking" : ""),
    found.length ? h("div", { class: "tools" }, found) : null,
  );
}
