// The public transparency report: moderation actions per rule and period.
import { get } from "./api.js";
import { h } from "./ui.js";

// Each action in words; one this client does not know (a newer server) shows its name.
const ACTIONS = {
  suspend: "Account suspended",
  unsuspend: "Suspension lifted",
  limit: "Account limited",
  unlimit: "Limit lifted",
  remove_post: "Post removed",
  restore_post: "Post restored on appeal",
  remove_recording: "Recording removed",
  restore_recording: "Recording restored on appeal",
  recording_delete: "Recording deleted",
  end_space: "Space ended",
  restore_space: "Space restored on appeal",
  appeal: "Appeal made",
  decide_appeal: "Appeal decided",
  report_actioned: "Report acted on",
  report_dismissed: "Report dismissed",
  link_rule_add: "Link rule added",
  link_rule_remove: "Link rule removed",
  feature_on: "Feature switched on",
  feature_off: "Feature switched off",
  location_policy: "Location policy changed",
};

export async function render(main) {
  const { actions } = await get("/transparency");
  const rows = actions || [];
  main.append(
    h(
      "section",
      { class: "page narrow transparency-page" },
      h("h1", { tabindex: "-1" }, "Transparency report"),
      h("p", { class: "lede" }, "Every moderation action is logged. Here is how many were taken each month (UTC), by action and rule, and how many appealed decisions stood or were overturned."),
      rows.length
        ? h(
            "div",
            { class: "table-wrap card" },
            h("table", {}, h("caption", { class: "visually-hidden" }, "Moderation actions per month, action and rule"), h("thead", {}, h("tr", {}, ["Month", "Action", "Rule", "Count"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, monthName(r.period)), h("td", {}, actionName(r)), h("td", {}, r.rule || "—"), h("td", {}, String(r.count)))))),
          )
        : h("p", { class: "empty" }, "No moderation actions yet."),
    ),
  );
}

// "2026-12" as a person says it ("December 2026"), in the reader's language; the month is
// UTC's, as the server counted it. A period this client cannot read shows as it came.
function monthName(period) {
  const [year, month] = String(period).split("-").map(Number);
  if (!year || !month) return period;
  return new Date(Date.UTC(year, month - 1, 1)).toLocaleDateString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
}

// A decided appeal's line names its outcome: how many decisions stood, how many fell.
function actionName({ action, outcome }) {
  const name = ACTIONS[action] || action;
  return outcome ? `${name}: ${outcome}` : name;
}
