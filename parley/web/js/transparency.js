// The public transparency report: moderation actions per rule and period.
import { get } from "./api.js";
import { ACTIONS } from "./audit-actions.js";
import { h } from "./ui.js";

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
