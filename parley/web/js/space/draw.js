// Redraws the room from its state: the head here, each list and your controls in their modules.
// Called after every event but `active_speakers` (stage.js updates the rings in place).
import { showText } from "../posts.js";
import { may } from "../permissions.js";
import { h } from "../ui.js";
import { drawAudience } from "./audience.js";
import { STAGE } from "./common.js";
import { drawControls, drawInvitation } from "./controls.js";
import { remember, restore } from "./focus.js";
import { drawLockScreen } from "./lock-screen.js";
import { drawPins } from "./pins.js";
import { drawRequests } from "./requests.js";
import { drawStage } from "./stage.js";

function drawHead(room) {
  const { space, view: v } = room;
  // Redrawn only when they change, so a link in them keeps focus through other events.
  const texts = JSON.stringify([space.title, space.title_parts, space.description, space.description_parts]);
  if (v.title.dataset.shown !== texts) {
    v.title.dataset.shown = texts;
    showText(v.title, space.title_parts, space.title);
    showText(v.description, space.description_parts, space.description || "");
  }
  document.title = `${space.title} · Parley`;
  v.listenerCount.textContent = String(space.listener_count);
  v.description.hidden = !space.description;
  v.topics.replaceChildren(...(space.topics || []).map((t) => h("li", {}, t)));
  v.topics.hidden = !(space.topics || []).length;
  v.editTitle.hidden = !may(room.myRole(), "edit");
  v.hostAway.hidden = space.host_present !== false;
}

const ORDER = { host: 0, cohost: 1, speaker: 2, listener: 3 };

export function draw(room) {
  const focusKey = remember(room.main);
  drawHead(room);
  drawPins(room);
  const all = [...room.people.values()];
  const stage = all.filter((p) => STAGE.has(p.role)).sort((a, b) => ORDER[a.role] - ORDER[b.role] || a.handle.localeCompare(b.handle));
  const audience = all.filter((p) => p.role === "listener").sort((a, b) => a.handle.localeCompare(b.handle));
  drawStage(room, stage);
  drawRequests(room, audience.filter((p) => p.hand_raised));
  drawAudience(room, audience);
  drawInvitation(room);
  drawControls(room);
  drawLockScreen(room);
  restore(room.main, focusKey);
}
