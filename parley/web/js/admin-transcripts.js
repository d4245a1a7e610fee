// What was said, for moderators: a search of the transcripts of recorded and live spaces, and a
// reported space's words around its report; each line's time plays the recording from there.
import { heading, table } from "./admin-panel.js";
import { get, q } from "./api.js";
import { busy, errorBox, h, onSubmit } from "./ui.js";

// A reported space's words around the moment it was reported, each line linking into the replay.
export function reportTranscript(report) {
  const out = h("div", { class: "report-transcript", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "ghost small", "aria-expanded": "false" }, "Transcript");
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (button.getAttribute("aria-expanded") === "true") {
        out.replaceChildren();
        button.setAttribute("aria-expanded", "false");
        return;
      }
      const found = await get(`/admin/reports/${q(report.id)}/transcript`);
      const note = found.recorded ? "Two minutes either side of the report; a time plays the recording from there." : "Two minutes either side of the report. The space has no recording to play.";
      out.replaceChildren(
        h("p", { class: "hint" }, note),
        found.lines.length ? h("ol", { class: "transcript-excerpt", "aria-label": `Transcript around report ${report.id}` }, found.lines.map(transcriptLine)) : h("p", { class: "empty" }, "Nothing was captioned then."),
      );
      button.setAttribute("aria-expanded", "true");
    }),
  );
  return h("div", {}, button, out);
}

function transcriptLine(line) {
  const when = line.replay_link ? h("a", { href: line.replay_link, "aria-label": `Play from ${clockOf(line.replay_at)}` }, clockOf(line.replay_at)) : h("span", { class: "muted" }, "not recorded");
  return h("li", {}, when, " ", h("strong", {}, line.speaker_name), ": ", line.text);
}

function clockOf(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export async function transcripts(panel) {
  const box = errorBox();
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline-form", role: "search" }, h("label", { for: "transcript-q" }, "Find words"), h("input", { id: "transcript-q", name: "q", minlength: 2, maxlength: 100, autocomplete: "off" }), h("button", { type: "submit", class: "primary small" }, "Search"));
  panel.append(...heading("Transcripts", "Searches what was said in recorded spaces (while their recording is kept) and in live ones."), form, box, results);
  onSubmit(form, box, async () => {
    const hits = await get(`/admin/transcripts?q=${q(form.q.value.trim())}&limit=100`);
    results.replaceChildren(
      hits.length
        ? table(
            ["Space", "Speaker", "When", "Said"],
            hits.map((hit) =>
              h(
                "tr",
                {},
                h("td", {}, hit.space_title),
                h("td", {}, hit.line.speaker_name),
                h("td", {}, hit.line.replay_link ? h("a", { href: hit.line.replay_link }, clockOf(hit.line.replay_at)) : `${clockOf(hit.line.start)} into the space, not recorded`),
                h("td", {}, hit.line.text),
              ),
            ),
            "Transcript lines found",
          )
        : h("p", { class: "empty" }, "Nothing found."),
    );
  });
}

