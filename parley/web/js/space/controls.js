// Your own controls: the mic, leaving the stage, asking to speak, reactions, leaving and ending;
// and the invitation to speak when a host sends one. Each shows only if your role allows it.
import { del, post, q } from "../api.js";
import { disclosure } from "../disclosure.js";
import { isStageRole } from "../media.js";
import { isNarrow } from "../narrow.js";
import { may } from "../permissions.js";
import { announce, busy, h } from "../ui.js";
import { act, button } from "./common.js";
import { endSpace, leave } from "./exits.js";
import { remember, restore } from "./focus.js";

const REACTIONS = [
  ["👏", "Applause"],
  ["😂", "Laughing"],
  ["❤️", "Love"],
  ["💯", "Hundred"],
  ["🔥", "Fire"],
  ["🙏", "Thanks"],
  ["🎉", "Celebrate"],
  ["🤔", "Thinking"],
];

export function drawInvitation(room) {
  const { invitation } = room.view;
  const p = room.mine();
  const show = !!p && p.role === "listener" && p.invited;
  if (show === !invitation.hidden) return;
  invitation.hidden = !show;
  if (!show) return invitation.replaceChildren();
  const accept = button("Accept", "invite:accept", (b) => act(b, () => post(room.path("/invitation/accept")), "You're on stage. You start muted."), "primary");
  const decline = button("Decline", "invite:decline", (b) => act(b, () => post(room.path("/invitation/decline")), "Invitation declined"), "secondary");
  invitation.replaceChildren(h("h2", { id: "invite-h" }, "You're invited to speak"), h("p", {}, "The hosts would like you on stage. You'll join muted and can unmute when ready."), h("div", { class: "actions" }, accept, decline));
  announce("You're invited to speak. Accept or decline.", { assertive: true });
}

// Your own mic on or off: the server decides, and its mic_changed redraws the controls.
export function setMyMic(room, on) {
  return post(room.path(on ? "/unmute" : `/mute/${q(room.me.handle)}`));
}

// On stage: the mic, and the way back to the audience (not for the host, who stays on stage
// whatever the table says: rules.to_audience). In the audience: ask to speak, or take it back.
function stageOrHand(room, p, role) {
  if (may(role, "unmute")) {
    const mic = p.muted
      ? button("Unmute", "mic", (b) => act(b, () => setMyMic(room, true), "Your mic is on"), "primary mic-button")
      : button("Mute", "mic", (b) => act(b, () => setMyMic(room, false), "Your mic is off"), "secondary mic-button");
    if (role === "host" || !may(role, "move_to_audience")) return [mic];
    return [mic, button("Leave the stage", "unstage", (b) => act(b, () => del(room.path(`/speakers/${q(room.me.handle)}`)), "You're back in the audience"))];
  }
  if (p?.hand_raised) return [button("Cancel request", "hand", (b) => act(b, () => del(room.path("/hand")), "Request withdrawn"), "secondary")];
  // A limited account listens: it may not ask to speak, nor react (the server refuses both).
  if (room.limited) return [h("p", { class: "limited-note" }, "Your account is limited: you can listen, but not speak or react. ", h("a", { href: "#/notices" }, "See why"))];
  if (!p?.invited && may(role, "raise_hand")) return [button("Request to speak", "hand", (b) => act(b, () => limitAware(room, post(room.path("/hand"))), "Request sent. The hosts will see your raised hand."), "primary")];
  return [];
}

// A refusal because the account was limited since the room opened: the room learns it.
async function limitAware(room, request) {
  try {
    return await request;
  } catch (error) {
    if (error.code === "account_limited" && !room.limited) {
      room.limited = true;
      room.draw();
    }
    throw error;
  }
}

function reactions(room, role) {
  if (!may(role, "react") || room.limited) return [];
  const react = (emoji, label) => button(emoji, `react:${emoji}`, (b) => act(b, () => limitAware(room, post(room.path("/reactions"), { emoji }))), "reaction", { "aria-label": `React ${emoji}`, title: label });
  return [h("div", { class: "reactions", role: "group", "aria-label": "Reactions" }, REACTIONS.map(([emoji, label]) => react(emoji, label)))];
}

export function drawControls(room) {
  const { controls } = room.view;
  const p = room.mine();
  const role = room.myRole();
  const narrow = isNarrow();
  const signature = [role, p?.muted, p?.hand_raised, p?.invited, room.space.recording, narrow, room.limited].join("|");
  if (controls.dataset.sig === signature) return;
  controls.dataset.sig = signature;
  room.view.dataSaverRow.hidden = isStageRole(role);
  const focusKey = remember(room.main);
  const [main, ...others] = stageOrHand(room, p, role);
  const more = [...others, ...reactions(room, role)];
  const leaving = may(role, "leave") ? button("Leave", "leave", (b) => busy(b, () => leave(room)), "ghost") : null;
  const ending = [];
  if (may(role, "record")) {
    const on = room.space.recording;
    ending.push(button(on ? "Stop recording" : "Record", "record", (b) => act(b, () => post(room.path(on ? "/recording/stop" : "/recording/start")), on ? "Recording stopped" : "Recording started"), "secondary"));
  }
  if (may(role, "end")) ending.push(button("End space", "end", (b) => busy(b, () => endSpace(room)), "danger"));
  if (narrow) {
    // One row on a phone: the mic (or the hand) and Leave, the rest in a tray that opens above.
    more.push(...ending);
    const wasOpen = controls.querySelector("#more-controls")?.hidden === false;
    const tray = more.length ? trayOf(more, focusKey, wasOpen) : null;
    controls.replaceChildren(...[main, tray, leaving].filter(Boolean));
  } else controls.replaceChildren(...[main, ...more, h("span", { class: "spacer" }), leaving, ...ending].filter(Boolean));
  restore(room.main, focusKey);
}

// Named for what it holds: a listener's tray has only the reactions. A redraw (the room's state
// changed: a hand lowered, a mute, Record became Stop recording) keeps it as it was: open if it
// was open, or if one of its controls has the focus, and its button keeps the focus it had.
function trayOf(items, focusKey, wasOpen) {
  const onlyReactions = items.length === 1 && items[0].classList.contains("reactions");
  const panel = h("div", { class: "tray" }, ...items);
  const open = wasOpen || (!!focusKey && !!panel.querySelector(`[data-key="${CSS.escape(focusKey.key)}"]`));
  const tray = disclosure({ id: "more-controls", panel, content: onlyReactions ? "React" : "More", cls: "ghost", open });
  tray.querySelector(".disclosure-toggle").dataset.key = "tray";
  return tray;
}
