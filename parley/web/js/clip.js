// A clip's public page: the space's title, who clipped it, a player and the download.
import { get, q } from "./api.js";
import { notice } from "./space/common.js";
import { h } from "./ui.js";
import { clock } from "./replay.js";

export async function render(main, [clipId], app) {
  let clip;
  try {
    clip = await get(`/clips/${q(clipId)}`);
  } catch (error) {
    main.append(notice("No such clip", error.code === "recording_hidden" ? "This clip is not available." : error.message));
    return;
  }
  app.titled(`Clip: ${clip.title}`);
  main.append(
    h(
      "section",
      { class: "page narrow" },
      h("p", { class: "room-meta" }, h("span", { class: "badge" }, "Clip"), ` ${Math.round(clip.duration_seconds)} s from ${clock(clip.start_seconds)}`),
      h("h1", { tabindex: "-1" }, clip.title),
      h("p", {}, `Clipped by @${clip.by}`),
      h("audio", { controls: true, preload: "metadata", src: clip.audio_url }),
      h("p", {}, h("a", { href: clip.audio_url, class: "button secondary small", download: "" }, "Download (M4A)"), " ", h("a", { href: `#/spaces/${clip.space_id}/replay` }, "The whole replay")),
    ),
  );
}
