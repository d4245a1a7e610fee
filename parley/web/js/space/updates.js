// What each message of the space's event socket does to the room: one handler per event type.
// A handler changes the room's state (and logs what people would want to know); the room is then
// redrawn, unless the handler returns SKIP_REDRAW (it left the room, or updated in place).
import { get } from "../api.js";
import { moderates } from "../permissions.js";
import { announce } from "../ui.js";
import { floatReaction, log } from "./activity.js";
import { showCaption } from "./captions.js";
import { STAGE, nameOf } from "./common.js";
import { droppedOut, ended, removed } from "./exits.js";
import { loadPins } from "./pins.js";
import { showActiveSpeakers } from "./stage.js";

const SKIP_REDRAW = true;

export function apply(room, message) {
  room.audio?.handle(message);
  const { type } = message;
  const data = message.data || {};
  if (type === "snapshot") return applySnapshot(room, data);
  if (type === "error") return;
  // The account's own state changed while the room is open: a limit set or lifted.
  if (type === "account") {
    room.limited = data.state === "limited";
    return room.draw();
  }
  if (typeof data.listener_count === "number") room.space.listener_count = data.listener_count;
  const id = data.account_id;
  const event = { data, id, p: id ? room.people.get(id) : null, self: id === room.me.id };
  if (HANDLERS[type]?.(room, event) === SKIP_REDRAW) return;
  room.draw();
}

// The state of the space when the socket (re)opens: the stage from the snapshot, the audience
// fetched after it.
async function applySnapshot(room, view) {
  room.space = { ...room.space, ...view };
  if (room.space.state !== "live") return ended(room);
  showRecording(room);
  const kept = new Map();
  for (const p of view.stage || []) kept.set(p.account_id, { ...p });
  room.people.clear();
  for (const [k, v] of kept) room.people.set(k, v);
  room.draw();
  loadPins(room);
  try {
    const listeners = await get(room.path("/listeners?limit=500"));
    for (const p of listeners) if (!room.people.has(p.account_id) && p.present !== false) room.people.set(p.account_id, { ...p });
    room.draw();
  } catch {
    // the audience list fills in from events
  }
}

// After a new host: the stage as the server has it now.
async function refreshView(room) {
  try {
    const view = await get(room.path());
    room.space = { ...room.space, ...view };
    for (const p of view.stage || []) room.people.set(p.account_id, { ...room.people.get(p.account_id), ...p });
    for (const p of room.people.values()) if (STAGE.has(p.role) && !view.stage.some((s) => s.account_id === p.account_id)) p.role = "listener";
    room.draw();
  } catch {
    // next event tries again
  }
}

// The event carries plain text; the links in the title and description come from the server's
// view, fetched again (and dropped if the text changed once more meanwhile).
function spaceUpdated(room, { data }) {
  const { space } = room;
  for (const key of ["title", "description", "topics"]) if (key in data) space[key] = data[key];
  if ("title" in data) log(room, `Title changed to “${data.title}”`);
  if (!("title" in data || "description" in data)) return;
  space.title_parts = space.description_parts = null;
  get(room.path())
    .then((fresh) => {
      if (fresh.title !== room.space.title || fresh.description !== room.space.description) return;
      room.space.title_parts = fresh.title_parts;
      room.space.description_parts = fresh.description_parts;
      room.draw();
    })
    .catch(() => {});
}

function roleChanged(room, { data, id, p, self }) {
  const fresh = { role: data.role, muted: data.muted ?? true, hand_raised: false, invited: false };
  if (p) Object.assign(p, fresh);
  else room.people.set(id, { account_id: id, handle: data.handle, ...fresh, present: true });
  const onStage = STAGE.has(data.role);
  // speaker_audio is said of stage members only: off it, a lost connection is no longer shown.
  if (p && !onStage) p.audio_lost = false;
  if (self) announce(onStage ? `You're ${data.role === "speaker" ? "a speaker" : `the ${data.role}`} now${data.muted ? ". You're muted" : ""}.` : "You're in the audience now.");
  // Coming on stage in a recorded space: told before saying a word.
  if (self && onStage && room.space.recording) announce("This space is being recorded: what you say on stage is in the recording.", { assertive: true, toast: true });
  log(room, onStage ? `${nameOf(data)} is now ${data.role === "speaker" ? "a speaker" : `a ${data.role}`}` : `${nameOf(data)} moved to the audience`);
}

function handChanged(room, { data, p, self }) {
  if (p) p.hand_raised = data.raised;
  if (self && !data.raised && data.denied_by) announce("Your request to speak was declined");
  // Those who may answer a request hear of it.
  if (!self && data.raised && moderates(room.myRole())) {
    log(room, `${nameOf(data)} asked to speak`);
    announce(`${nameOf(data)} asked to speak`, { toast: true });
  }
}

export function showRecording(room) {
  room.view.rec.hidden = room.view.stageRec.hidden = !room.space.recording;
}

function recordingChanged(room, { data }) {
  room.space.recording = !!data.recording;
  showRecording(room);
  const said = data.recording ? "Recording started: what is said on stage is recorded" : "Recording stopped";
  log(room, said);
  announce(said, { toast: STAGE.has(room.myRole()) });
}

function spaceOver(room, { data }) {
  ended(room, data);
  return SKIP_REDRAW;
}

const HANDLERS = {
  participant_joined(room, { data, id, p, self }) {
    room.people.set(id, { ...(p || {}), account_id: id, handle: data.handle, role: data.role, muted: data.muted ?? true, hand_raised: false, invited: false, present: true });
    if (!self) log(room, `${nameOf(data)} joined`);
  },
  participant_left(room, { data, id, self }) {
    room.people.delete(id);
    if (self) {
      droppedOut(room, data.reason);
      return SKIP_REDRAW;
    }
    log(room, `${nameOf(data)} left`);
  },
  participant_removed(room, { data, id, self }) {
    room.people.delete(id);
    if (self) {
      removed(room);
      return SKIP_REDRAW;
    }
    // A deleted account took itself out: it left, nobody removed it.
    log(room, data.reason === "deactivated" ? `${nameOf(data)} left` : `${nameOf(data)} was removed`);
  },
  role_changed: roleChanged,
  mic_changed(room, { data, p, self }) {
    if (p) p.muted = data.muted;
    if (self && data.muted && data.by && data.by !== room.me.id) announce("A host muted you", { assertive: true });
  },
  hand_changed: handChanged,
  speaker_invited(room, { data, p, self }) {
    if (p) p.invited = true;
    if (!self) log(room, `${nameOf(data)} was invited to speak`);
  },
  invitation_declined(room, { data, p, self }) {
    if (p) p.invited = false;
    if (!self && !data.withdrawn_by) log(room, `${nameOf(data)} declined to speak`);
  },
  reaction(room, { data }) {
    floatReaction(room, data.emoji, nameOf(data));
    log(room, `${nameOf(data)} reacted ${data.emoji}`);
  },
  // The node hung their audio up as dead, or they are connected again since: others see them
  // reconnecting rather than "Mic on" with nothing heard.
  speaker_audio(room, { data, p }) {
    if (p) p.audio_lost = !data.connected;
  },
  active_speakers(room, { data }) {
    showActiveSpeakers(room, data.account_ids || []);
    return SKIP_REDRAW;
  },
  caption(room, { data }) {
    showCaption(room, data);
    return SKIP_REDRAW;
  },
  pins_changed(room, { data }) {
    const before = room.space.pinned || [];
    const now = (room.space.pinned = data.post_ids || []);
    const by = room.people.get(data.by);
    const pinned = now.length > before.length || (now.length && now[0] !== before[0]);
    // A post nobody may read any more leaves the pins by itself: say whose doing it was.
    if (data.by === "moderation") log(room, "A moderator removed a pinned post");
    else if (!pinned && !by && data.by !== room.space.host.id) log(room, "A pinned post was deleted by its author");
    else log(room, `${by ? nameOf(by) : "A host"} ${pinned ? "pinned" : "unpinned"} a post`);
    loadPins(room);
  },
  space_updated: spaceUpdated,
  recording_changed: recordingChanged,
  space_ended: spaceOver,
  space_cancelled: spaceOver,
  host_absent(room) {
    room.space.host_present = false;
    log(room, "The host stepped away");
  },
  host_returned(room) {
    room.space.host_present = true;
    log(room, "The host is back");
  },
  host_changed(room, { data }) {
    // The host before is away (their grace period ran out) or being taken out: no longer in
    // the room, not a listener to list.
    if (data.previous) room.people.delete(data.previous);
    log(room, `${nameOf(data)} is the host now`);
    refreshView(room);
  },
};
