// The replay of a recorded space: play and pause, seek, 1×/1.5×/2×, who was speaking when and the
// reactions on one timeline (click a turn to hear it), the transcript (searchable, a line plays
// from its time, the one playing is marked), the download, and clipping a passage.
// Works signed out: recordings of public spaces are public. `#/spaces/ID/replay?t=SECONDS`
// starts there (moderators' links from a report or a search).
import { currentSession, get, post, q } from "./api.js";
import { audienceLine } from "./cards.js";
import { followLockScreen } from "./replay-lock-screen.js";
import { hostLink, notice } from "./space/common.js";
import { announce, h, when } from "./ui.js";
import { attachVod } from "./vod-audio.js";

const SPEEDS = [1, 1.5, 2];

export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hours ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

const UNAVAILABLE = {
  recording_not_found: "This space was not recorded.",
  recording_deleted: "This recording was deleted.",
  recording_hidden: "This recording is not available.",
  space_not_found: "There is no such space.",
};

export async function render(main, [spaceId], app) {
  let info;
  try {
    info = await get(`/spaces/${q(spaceId)}/recording`);
  } catch (error) {
    main.append(notice("No replay", UNAVAILABLE[error.code] || error.message));
    return;
  }
  app.titled(`Replay: ${info.title}`);
  const [timeline, lines, space] = await Promise.all([
    get(`/spaces/${q(spaceId)}/recording/timeline`).catch(() => ({ speakers: [], reactions: [] })),
    get(`/spaces/${q(spaceId)}/recording/transcript`).catch(() => []),
    get(`/spaces/${q(spaceId)}`).catch(() => null), // its host and audience; the replay plays without
  ]);
  const duration = info.duration_seconds;
  const audio = h("audio", { preload: "auto", class: "visually-hidden", "aria-hidden": "true" });
  const player = await attachVod(audio, info.playlist_url, currentSession()?.token);
  window.parleyReplay = { audio, info, timeline, lines };

  const controls = playerControls(audio, duration);
  const lanes = speakerLanes(timeline, duration, controls.jump);
  const reactions = reactionMarks(timeline, duration);
  const transcript = transcriptPanel(lines, audio, controls.jump);
  const clipResult = h("p", { role: "status" });
  const clipButton = clipper(spaceId, audio, duration, clipResult);
  const { playButton, seek, time, speedButtons, playhead } = controls;
  main.append(
    h(
      "section",
      { class: "page replay" },
      h("p", { class: "room-meta" }, h("span", { class: "badge" }, info.state === "complete" ? "Replay" : "Recording"), ` ${clock(duration)} · ${(info.size_bytes / 1e6).toFixed(1)} MB`),
      h("h1", { tabindex: "-1" }, info.title),
      space ? h("p", { class: "host" }, "Hosted by ", hostLink(space), space.started_at ? ` · ${when(space.started_at)}` : null) : null,
      space ? audienceLine(space) : null,
      h("div", { class: "replay-controls" }, playButton, h("label", { for: "replay-seek", class: "visually-hidden" }, "Position"), seek, time, h("span", { class: "speeds", role: "group", "aria-label": "Speed" }, ...speedButtons)),
      h("section", { class: "replay-timeline", "aria-label": "Who was speaking when" }, h("div", { class: "replay-tracks" }, playhead, ...lanes, reactions)),
      transcript,
      h("p", { class: "replay-actions" }, h("a", { href: info.download_url, class: "button secondary small", download: "" }, "Download (M4A)"), " ", currentSession() ? clipButton : null),
      clipResult,
      audio,
    ),
  );
  const from = Number(new URLSearchParams(location.hash.split("?")[1] || "").get("t"));
  if (from > 0) controls.jump(from);
  const leaveLockScreen = followLockScreen(info, space, audio, controls.jump);
  return () => {
    leaveLockScreen();
    player.destroy();
    delete window.parleyReplay;
  };
}

// The transcript: a line per caption (who, when, what), each a button playing from its start; a
// search box keeps the lines holding its words; the line being heard is marked (aria-current),
// without moving focus or announcing it (the audio is what is being listened to).
function transcriptPanel(lines, audio, jump) {
  const heading = h("h2", { id: "transcript-h2" }, "Transcript");
  if (!lines.length) return h("section", { class: "replay-transcript", "aria-labelledby": "transcript-h2" }, heading, h("p", { class: "hint" }, "No transcript: nothing was captioned in this recording."));
  const count = h("p", { class: "hint", role: "status" });
  const search = h("input", { type: "search", id: "transcript-search", placeholder: "Search the transcript", autocomplete: "off" });
  const items = lines.map((line) => {
    const button = h(
      "button",
      { type: "button", class: "transcript-line" },
      h("span", { class: "transcript-time" }, clock(line.start)),
      h("span", { class: "transcript-speaker" }, line.speaker_name),
      h("span", { class: "transcript-text" }, line.text),
    );
    button.addEventListener("click", () => {
      jump(line.start);
      if (audio.paused) audio.play().catch(() => {});
    });
    return { line, button, item: h("li", {}, button), words: `${line.speaker_name} ${line.text}`.toLowerCase() };
  });
  function filter() {
    const wanted = search.value.trim().toLowerCase();
    let shown = 0;
    for (const entry of items) {
      entry.item.hidden = Boolean(wanted) && !entry.words.includes(wanted);
      if (!entry.item.hidden) shown += 1;
    }
    count.textContent = wanted ? `${shown} of ${items.length} lines` : "";
  }
  search.addEventListener("input", filter);
  let current = null;
  audio.addEventListener("timeupdate", () => {
    const now = audio.currentTime;
    // The last line begun by now, while it lasts: lines do not overlap much, speakers take turns.
    let playing = null;
    for (const entry of items) if (entry.line.start <= now + 0.05 && now < entry.line.end + 0.5) playing = entry;
    if (playing === current) return;
    current?.button.removeAttribute("aria-current");
    playing?.button.setAttribute("aria-current", "true");
    current = playing;
  });
  return h(
    "section",
    { class: "replay-transcript", "aria-labelledby": "transcript-h2" },
    heading,
    h("label", { for: "transcript-search", class: "visually-hidden" }, "Search the transcript"),
    search,
    count,
    h("ol", { class: "transcript-lines", "aria-label": "Transcript lines" }, items.map((e) => e.item)),
  );
}

// One lane per speaker: their turns as bars on the replay's length.
function speakerLanes(timeline, duration, jump) {
  const byHandle = new Map();
  for (const turn of timeline.speakers) {
    if (!byHandle.has(turn.handle)) byHandle.set(turn.handle, []);
    byHandle.get(turn.handle).push(turn);
  }
  if (!byHandle.size) return [h("p", { class: "hint" }, "Nobody spoke in this recording, or who did is not known.")];
  return [...byHandle].map(([handle, turns]) => {
    const track = h("div", { class: "lane-track" });
    for (const turn of turns) {
      const bar = h("button", { type: "button", class: "turn", title: `@${handle} ${clock(turn.start)}–${clock(turn.end)}`, "aria-label": `@${handle} speaking at ${clock(turn.start)}` });
      place(bar, turn.start, turn.end - turn.start, duration);
      bar.addEventListener("click", () => jump(turn.start));
      track.append(bar);
    }
    return h("div", { class: "lane" }, h("span", { class: "lane-name" }, `@${handle}`), track);
  });
}

function reactionMarks(timeline, duration) {
  const track = h("div", { class: "lane-track reactions" });
  for (const mark of timeline.reactions) {
    const span = h("span", { class: "reaction-mark", title: `@${mark.handle} ${clock(mark.at)}` }, mark.emoji);
    place(span, mark.at, 0, duration);
    track.append(span);
  }
  return h("div", { class: "lane" }, h("span", { class: "lane-name" }, "Reactions"), track);
}

// Positions through the CSSOM: the CSP allows no inline style attributes.
function place(element, start, length, duration) {
  element.style.left = `${(100 * start) / (duration || 1)}%`;
  if (length) element.style.width = `${Math.max(0.5, (100 * length) / (duration || 1))}%`;
}

// Play and pause, the position (a range input and a clock), the speeds, and the playhead on the
// timeline, all following the audio element.
function playerControls(audio, duration) {
  const playButton = h("button", { type: "button", class: "primary", "aria-pressed": "false" }, "Play");
  const seek = h("input", { type: "range", min: "0", max: String(duration), step: "0.1", value: "0", id: "replay-seek", "aria-label": "Position" });
  const time = h("span", { class: "replay-time", role: "timer", "aria-live": "off" }, `0:00 / ${clock(duration)}`);
  const speedButtons = SPEEDS.map((rate) => {
    const b = h("button", { type: "button", class: "small secondary", "aria-pressed": String(rate === 1) }, `${rate}×`);
    b.addEventListener("click", () => {
      audio.playbackRate = rate;
      for (const other of speedButtons) other.setAttribute("aria-pressed", String(other === b));
      announce(`Speed ${rate}×`, { toast: false });
    });
    return b;
  });
  const playhead = h("div", { class: "replay-playhead", "aria-hidden": "true" });

  function jump(at) {
    audio.currentTime = Math.min(Math.max(at, 0), duration);
    seek.value = String(audio.currentTime);
  }
  playButton.addEventListener("click", () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()));
  audio.addEventListener("play", () => {
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
  });
  audio.addEventListener("pause", () => {
    playButton.textContent = "Play";
    playButton.setAttribute("aria-pressed", "false");
  });
  seek.addEventListener("input", () => jump(Number(seek.value)));
  audio.addEventListener("timeupdate", () => {
    if (document.activeElement !== seek) seek.value = String(audio.currentTime);
    time.textContent = `${clock(audio.currentTime)} / ${clock(duration)}`;
    playhead.style.left = `${(100 * audio.currentTime) / (duration || 1)}%`;
  });

  return { playButton, seek, time, speedButtons, playhead, jump };
}

function clipper(spaceId, audio, duration, clipResult) {
  const clipButton = h("button", { type: "button", class: "secondary small" }, "Clip 30 s from here");
  clipButton.addEventListener("click", async () => {
    const start = Math.min(audio.currentTime, Math.max(0, duration - 1));
    try {
      const clip = await post(`/spaces/${q(spaceId)}/clips`, { start_seconds: start, duration_seconds: Math.min(30, duration - start) });
      clipResult.replaceChildren("Clip made: ", h("a", { href: clip.page.replace(/^\//, "") }, `${clock(clip.start_seconds)}, ${Math.round(clip.duration_seconds)} s`));
    } catch (error) {
      clipResult.textContent = error.message;
    }
  });

  return clipButton;
}
