// The host's tools on a scheduled space's page: move it to another time, or call it off. Either
// way everyone with a reminder set is told (a notification), so the page says so before it acts.
import { api, post, q } from "./api.js";
import { localInputValue } from "./compose.js";
import { announce, confirmInPlace, field, foldedForm, h, onSubmit } from "./ui.js";

export function scheduleTools(space, app) {
  return h("div", { class: "schedule-tools" }, changeTime(space, app), cancelSpace(space, app));
}

function changeTime(space, app) {
  const { details, form, box } = foldedForm({
    summary: "Change time",
    controls: [field({ label: "New start", name: "start", type: "datetime-local", value: localInputValue(new Date(space.scheduled_start)), hint: "Everyone with a reminder set is told the new time." })],
    submit: "Save time",
    detailsClass: "change-time",
  });
  onSubmit(form, box, async () => {
    const start = new Date(form.start.value);
    if (Number.isNaN(start.getTime())) throw new Error("Choose when the space starts.");
    await api("PATCH", `/spaces/${q(space.id)}`, { scheduled_start: start.toISOString() });
    announce("Time changed. People with a reminder were told.");
    app.go(`/spaces/${space.id}`); // the page again, with the new time
  });
  return details;
}

function cancelSpace(space, app) {
  return confirmInPlace({
    label: "Cancel space",
    question: "Call this space off? Everyone with a reminder is told.",
    yes: "Cancel it for everyone",
    keep: "Keep it",
    cls: "cancel-space",
    work: async () => {
      await post(`/spaces/${q(space.id)}/end`);
      announce("Space cancelled. People with a reminder were told.");
      app.go("/");
    },
  });
}
