// The public transparency report: moderation actions per rule and period.
import { get } from "./api.js";
import { h } from "./ui.js";

export async function render(main) {
  const { actions } = await get("/transparency");
  const rows = actions || [];
  main.append(
    h(
      "section",
      { class: "page narrow transparency-page" },
      h("h1", { tabindex: "-1" }, "Transparency report"),
      h("p", { class: "lede" }, "Every moderation action is logged. These are the counts, per rule and month."),
      rows.length
        ? h(
            "div",
            { class: "table-wrap card" },
            h("table", {}, h("caption", { class: "visually-hidden" }, "Moderation actions per period, action and rule"), h("thead", {}, h("tr", {}, ["Period", "Action", "Rule", "Count"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.period), h("td", {}, r.action), h("td", {}, r.rule || "—"), h("td", {}, String(r.count)))))),
          )
        : h("p", { class: "empty" }, "No moderation actions yet."),
    ),
  );
}
