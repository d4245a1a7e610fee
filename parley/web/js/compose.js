// Start a space now, or schedule one: title, description, topics, recording, who can speak.
import { post } from "./api.js";
import { announce, errorBox, field, h } from "./ui.js";

// A date as a datetime-local input shows it: local time, to the minute.
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function render(main, _params, app) {
  const box = errorBox();
  const startNow = h("button", { type: "submit", class: "primary", value: "now" }, "Start now");
  const schedule = h("button", { type: "submit", class: "secondary", value: "schedule" }, "Schedule");
  const form = h("form", { novalidate: true, class: "stack" }, ...fields(), box, h("div", { class: "actions" }, startNow, schedule, h("a", { href: "#/", class: "button ghost" }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const mode = event.submitter?.value || "now";
    const body = request(form, mode, box);
    if (!body) return;
    for (const b of [startNow, schedule]) b.disabled = true;
    box.show(null);
    try {
      const space = await post("/spaces", body);
      if (mode === "schedule") {
        announce(`Scheduled “${space.title}” for ${at(space)}`);
        app.go("/");
      } else {
        sessionStorage.setItem(`parley.joined.${space.id}`, "1");
        announce(`“${space.title}” is live`);
        app.go(`/spaces/${space.id}`);
      }
    } catch (error) {
      box.show(error);
    } finally {
      for (const b of [startNow, schedule]) b.disabled = false;
    }
  });
  main.append(
    h(
      "section",
      { class: "page narrow" },
      h("div", { class: "card" }, h("h1", { tabindex: "-1" }, "Start a space"), h("p", { class: "lede" }, "Go live now, or schedule it so followers get a reminder."), form),
    ),
  );
}

function fields() {
  const inAnHour = new Date(Date.now() + 3600_000);
  inAnHour.setMinutes(0, 0, 0);
  return [
    field({ label: "Title", name: "title", required: true, maxlength: 100, autocomplete: "off", hint: "Up to 100 characters. Say what the conversation is about." }),
    field({ label: "Description", name: "description", tag: "textarea", rows: 3, maxlength: 1000 }),
    field({ label: "Topics", name: "topics", autocomplete: "off", hint: "Up to three, separated by commas." }),
    h(
      "div",
      { class: "row" },
      field({
        label: "Who can speak",
        name: "speak_policy",
        tag: "select",
        value: "everyone",
        options: [
          ["everyone", "Everyone can request"],
          ["followed", "People I follow"],
          ["invited", "Only people I invite"],
        ],
      }),
      field({ label: "Start time (for scheduling)", name: "scheduled_start", type: "datetime-local", value: localInputValue(inAnHour), hint: "Used by Schedule; Start now ignores it." }),
    ),
    field({ label: "Record this space", name: "recording", type: "checkbox" }),
  ];
}

// The request body for the form, or null (with the problem shown and focused) if it is not ready.
function request(form, mode, box) {
  const body = {
    title: form.title.value.trim(),
    description: form.description.value.trim(),
    topics: form.topics.value
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    recording: form.recording.checked,
    speak_policy: form.speak_policy.value,
  };
  if (!body.title) {
    box.show(new Error("Give your space a title."));
    form.title.focus();
    return null;
  }
  if (mode === "schedule") {
    const when = form.scheduled_start.value ? new Date(form.scheduled_start.value) : null;
    if (!when || Number.isNaN(when.getTime())) {
      box.show(new Error("Choose when the space starts."));
      form.scheduled_start.focus();
      return null;
    }
    body.scheduled_start = when.toISOString();
  }
  return body;
}

function at(space) {
  return new Date(space.scheduled_start).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
