// A scheduled space's reminder, for anyone but its host (who has "Go live"): "Remind me", or,
// once set, a "✓ Reminder set" badge and "Cancel reminder". The state is the server's
// (`space.reminded`), so it is still there after a reload.
import { del, post, q } from "./api.js";
import { announce, busy, h } from "./ui.js";

// -> {button, badge}: the badge goes beside the space's date. Errors go to `box`, or are announced.
export function reminderControls(space, app, { large = false, describedBy = null, box = null } = {}) {
  const badge = h("span", { class: "badge reminded" }, h("span", { "aria-hidden": "true" }, "✓ "), "Reminder set");
  const button = h("button", { type: "button", "aria-describedby": describedBy });
  let reminded = Boolean(space.reminded);
  const draw = () => {
    badge.hidden = !reminded;
    button.className = `${reminded ? "ghost" : "secondary"}${large ? " large" : ""}`;
    button.textContent = reminded ? "Cancel reminder" : "Remind me";
  };
  const flip = async () => {
    reminded = await toggle(space, reminded);
    draw();
  };
  button.addEventListener("click", () => (app.session() ? busy(button, flip, box) : app.go("/signin")));
  draw();
  return { button, badge };
}

// Sets or takes back the reminder; -> whether one is set now.
async function toggle(space, reminded) {
  const path = `/spaces/${q(space.id)}/reminders`;
  if (reminded) await del(path);
  else await post(path);
  announce(reminded ? `Reminder for “${space.title}” cancelled` : `We'll tell you when “${space.title}” goes live`);
  return !reminded;
}
