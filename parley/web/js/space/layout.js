// The room's layout, built once: the head (title, host, counts, banners), the stage, the side
// panels (requests, audience, activity), the invitation, your controls, and the audio player.
// Returns the elements the other modules fill in.
import { api } from "../api.js";
import { onNarrowChange } from "../narrow.js";
import { announce, errorBox, h, onSubmit } from "../ui.js";
import { buildCaptions } from "./captions.js";
import { hostLink } from "./common.js";
import { resumeSound } from "./lock-screen.js";
import { sharePostForm } from "../share-post.js";
import { buildPins } from "./pins.js";

function elements(room) {
  const player = h("audio", { autoplay: true, class: "visually-hidden", "aria-hidden": "true" });
  const soundButton = h("button", { type: "button", class: "secondary small", hidden: true }, "Turn on sound");
  soundButton.addEventListener("click", () => resumeSound(room).catch(() => {}));
  const requestsList = h("ul", { class: "people", "aria-label": "Requests" });
  const activity = h("ol", { class: "activity-list" });
  const dataSaver = h("input", { type: "checkbox", id: "data-saver" });
  return {
    title: h("h1", { id: "room-title", tabindex: "-1" }),
    listenerCount: h("span", { class: "count", role: "status", "aria-live": "off", "aria-label": "listeners" }, String(room.space.listener_count)),
    connection: h("span", { class: "conn", role: "status" }, "Connecting…"),
    // While the audio connection is made again (its node gone, or hung up): we hear nothing.
    audioLost: h("span", { class: "audio-lost", role: "status", hidden: true }, "Reconnecting audio…"),
    // REC in the head and on the stage: whoever is on stage is in the recording.
    rec: h("span", { class: "badge rec", hidden: !room.space.recording }, "● Recording"),
    stageRec: h("span", { class: "badge rec", hidden: !room.space.recording, title: "What is said on stage is recorded" }, "● REC"),
    hostAway: h("p", { class: "banner warn", role: "status", hidden: true }, "The host stepped away. The space waits a little for them to come back."),
    topics: h("ul", { class: "topics", "aria-label": "Topics" }),
    description: h("p", { class: "description" }),
    editTitle: titleEditor(room),
    stageList: h("ul", { class: "stage", "aria-label": "stage" }),
    requestsList,
    requestsSection: h("section", { class: "panel", "aria-labelledby": "requests-h", hidden: true }, h("h2", { id: "requests-h" }, "Requests to speak ", h("span", { class: "pill-count" })), requestsList),
    audienceList: h("ul", { class: "people", "aria-label": "Audience" }),
    activity,
    // Said until the first entry (then hidden by CSS), rather than an empty card.
    activityLog: h("div", { class: "activity", role: "log", "aria-label": "Activity", "aria-live": "polite", tabindex: "0" }, activity, h("p", { class: "empty activity-empty" }, "Nothing yet: reactions and who comes on stage show here.")),
    invitation: h("section", { class: "invitation", "aria-labelledby": "invite-h", hidden: true }),
    controls: h("div", { class: "controls-row" }),
    floats: h("div", { class: "floats", "aria-hidden": "true" }),
    player,
    soundButton,
    dataSaver,
    pins: buildPins(room),
    // Shown while the server's WebRTC listener cap has us listening by HLS (media.js).
    cappedNote: h("p", { class: "banner warn capped", hidden: true }, "Live audio is full on this server: you are listening by HLS, a few seconds behind."),
    // Only the audience may listen by HLS: on stage it is hidden (and WebRTC is used anyway).
    dataSaverRow: h("p", { class: "data-saver" }, dataSaver, " ", h("label", { for: "data-saver" }, "Data saver"), h("span", { class: "hint" }, h("span", { class: "hint-sep", "aria-hidden": "true" }, "· "), "while listening: a few seconds behind, much less data")),
  };
}

function head(room, v) {
  return h(
    "section",
    { class: "room-head", "aria-labelledby": "room-title" },
    h("div", { class: "room-meta" }, h("span", { class: "badge live" }, "Live"), v.rec, v.connection, v.audioLost),
    v.title,
    h("p", { class: "host" }, "Hosted by ", hostLink(room.space), " · ", v.listenerCount, " listening · ", h("a", { class: "share-link", href: `/s/${encodeURIComponent(room.spaceId)}` }, "Share link")),
    v.description,
    v.topics,
    v.editTitle,
    sharePostForm(() => room.space),
    v.hostAway,
    v.soundButton,
    v.dataSaverRow,
    v.cappedNote,
  );
}

function panel(id, heading, ...content) {
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, heading), ...content);
}

// While the room is shown: the page keeps space below its end for the fixed bar, whatever the
// bar's height (its controls wrap on a narrow window), so the bar never covers the last of it;
// and the controls are redrawn when the window crosses the phone width. Undone by `release`.
function watch(room, bar) {
  const root = document.documentElement;
  const observer = new ResizeObserver(() => root.style.setProperty("--controls-height", `${bar.offsetHeight}px`));
  observer.observe(bar);
  const stop = onNarrowChange(() => room.draw());
  return () => {
    observer.disconnect();
    stop();
    root.style.removeProperty("--controls-height");
  };
}

export function buildLayout(room) {
  const v = elements(room);
  const bar = h("section", { class: "controls", "aria-label": "Your controls" }, v.controls);
  room.main.append(
    h(
      "div",
      { class: "room" },
      head(room, v),
      v.invitation,
      h(
        "div",
        { class: "room-body" },
        h("section", { class: "panel stage-panel", "aria-labelledby": "stage-h" }, h("h2", { id: "stage-h" }, "On stage ", v.stageRec), v.stageList, buildCaptions(room)),
        h("div", { class: "side" }, v.pins.section, v.requestsSection, panel("audience-h", "Audience", v.audienceList), panel("activity-h", "Activity", v.activityLog)),
      ),
      bar,
      v.floats,
      v.player,
    ),
  );
  v.release = watch(room, bar);
  return v;
}

function titleEditor(room) {
  const input = h("input", { id: "new-title", name: "title", maxlength: 100, autocomplete: "off" });
  const box = errorBox();
  const form = h("form", { class: "inline-form" }, h("label", { for: "new-title" }, "New title"), input, h("button", { type: "submit", class: "secondary small" }, "Save title"), box);
  const summary = h("summary", {}, "Edit title");
  const details = h("details", { class: "edit-title", hidden: true }, summary, form);
  // Filled in as it opens (the toggle event comes later, after someone may have typed).
  summary.addEventListener("click", () => {
    if (!details.open) input.value = room.space.title;
  });
  details.addEventListener("toggle", () => {
    if (details.open && document.activeElement !== input) input.focus();
  });
  onSubmit(form, box, async () => {
    await api("PATCH", room.path(), { title: input.value.trim() });
    details.open = false;
    announce("Title changed");
  });
  return details;
}
