// The admin console's reports queue: what was reported (a post's words, a space's transcript
// around the report), the removals a moderator can make of it (admin-removals.js), and its
// resolution as actioned or dismissed.
import { drawnAgain, heading, queue, ruleList, table } from "./admin-panel.js";
import { reportedPost, spaceRemovals } from "./admin-removals.js";
import { reportTranscript } from "./admin-transcripts.js";
import { post, q } from "./api.js";
import { announce, busy, errorBox, h, when } from "./ui.js";

export async function reports(panel) {
  const list = await queue(panel, heading("Reports", "Open reports, oldest concerns first. Resolve each as actioned or dismissed."), "/admin/reports?status=open&limit=100", "The queue is empty.");
  if (!list) return;
  const redraw = drawnAgain(panel, reports);
  panel.append(ruleList("report-rules"), table(["Reported", "Rule", "Comment", "When", "Resolve"], list.map((r) => reportRow(r, redraw)), "Open reports"));
}

function reportRow(r, redraw) {
  const box = errorBox();
  const reason = h("input", { "aria-label": `Reason for report ${r.id}`, placeholder: "Reason", name: "reason" });
  const resolve = (status) => (event) =>
    busy(
      event.currentTarget,
      async () => {
        await post(`/admin/reports/${q(r.id)}/resolve`, { status, reason: reason.value.trim() || status });
        announce(`Report ${status}`);
        await redraw();
      },
      box,
    );
  return h(
    "tr",
    {},
    h("td", {}, reported(r, redraw)),
    h("td", {}, r.rule),
    h("td", {}, r.comment || "—"),
    h("td", {}, when(r.created_at)),
    // A report on oneself, or on one's post, space or bot, is another moderator's to resolve.
    r.about_you
      ? h("td", {}, h("p", { class: "hint" }, "About you: another moderator resolves it."))
      : h("td", {}, reason, h("div", { class: "actions" }, h("button", { type: "button", class: "danger small", onclick: resolve("actioned") }, "Actioned"), h("button", { type: "button", class: "ghost small", onclick: resolve("dismissed") }, "Dismiss")), box),
  );
}

// What was reported: a post shows its words and can be removed (admin-removals.js); a space
// offers its transcript around the report, ending it, and removing its recording.
function reported(r, redraw) {
  const removals = { rules: "report-rules", done: redraw };
  if (r.target_type === "post") return reportedPost(r, removals);
  const space = r.target_type === "space";
  return [`${r.target_type} `, h("code", {}, r.target_handle || r.target_id), space ? reportTranscript(r) : null, space && !r.about_you ? spaceRemovals(r, removals) : null];
}

