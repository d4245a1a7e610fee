// The admin console's link rules: a link matching one is labelled (warn) or refused (block)
// everywhere, links already posted included; and a check of any URL against them.
import { heading, table } from "./admin-panel.js";
import { del, get, post, q } from "./api.js";
import { announce, busy, errorBox, field, h, onSubmit } from "./ui.js";

// What each match and verdict is called, in the form and in the table alike.
const MATCHES = [["host", "Host and its subdomains"], ["prefix", "Host and path prefix"], ["url", "Exact URL"]];
const VERDICTS = [["warn", "Warn (interstitial)"], ["block", "Block"]];
// One a newer server added shows as it came.
const named = (pairs, value) => (pairs.find(([v]) => v === value) || [value, value])[1];

export async function linkRules(panel) {
  panel.append(...heading("Link rules", "Links matching a rule are labelled (warn) or refused (block) everywhere, including links already posted."));
  const list = await get("/admin/link-rules");
  const redraw = async () => {
    panel.replaceChildren();
    await linkRules(panel);
  };
  panel.append(list.length ? linkRuleTable(list, redraw) : h("p", { class: "empty" }, "No link rules yet."), linkRuleForm(redraw), checker());
}

function linkRuleForm(redraw) {
  const box = errorBox();
  const form = h(
    "form",
    { class: "stack card" },
    h("h3", {}, "Add a rule"),
    h(
      "div",
      { class: "row" },
      field({ label: "Match", name: "match", tag: "select", options: MATCHES, value: "host" }),
      field({ label: "Pattern", name: "pattern", required: true, autocomplete: "off", placeholder: "example.com" }),
      field({ label: "Verdict", name: "verdict", tag: "select", options: VERDICTS, value: "warn" }),
    ),
    h("div", { class: "row" }, field({ label: "Rule", name: "rule", list: "link-rule-names", required: true, value: "malware" }), field({ label: "Reason", name: "reason", required: true })),
    h("datalist", { id: "link-rule-names" }, ["malware", "phishing", "spam", "scam"].map((r) => h("option", { value: r }))),
    box,
    h("button", { type: "submit", class: "primary small" }, "Add rule"),
  );
  onSubmit(form, box, async () => {
    await post("/admin/link-rules", { match: form.match.value, pattern: form.pattern.value.trim(), verdict: form.verdict.value, rule: form.rule.value.trim(), reason: form.reason.value.trim() });
    announce("Link rule added");
    await redraw();
  });
  return form;
}

function linkRuleTable(list, redraw) {
  const remove = (r) => (event) =>
    busy(event.currentTarget, async () => {
      await del(`/admin/link-rules/${q(r.id)}`);
      announce("Link rule deleted");
      await redraw();
    });
  const row = (r) =>
    h(
      "tr",
      {},
      h("td", {}, named(MATCHES, r.match)),
      h("td", {}, h("code", {}, r.pattern)),
      h("td", {}, named(VERDICTS, r.verdict)),
      h("td", {}, r.rule),
      h("td", {}, r.reason || ""),
      h("td", {}, h("button", { type: "button", class: "ghost small", "aria-label": `Delete rule for ${r.pattern}`, onclick: remove(r) }, "Delete")),
    );
  return table(["Match", "Pattern", "Verdict", "Rule", "Reason", ""], list.map(row), "Link rules");
}

function checker() {
  const out = h("p", { role: "status" });
  const form = h("form", { class: "inline-form" }, h("label", { for: "check-url" }, "Check a URL"), h("input", { id: "check-url", name: "url", type: "url", autocomplete: "off" }), h("button", { type: "submit", class: "secondary small" }, "Check"), out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), async () => {
      try {
        const r = await get(`/links/check?url=${q(form.url.value.trim())}`);
        out.textContent = checkResult(r);
      } catch (error) {
        out.textContent = error.message;
      }
    });
  });
  return h("div", { class: "card link-check-card" }, form);
}

// "Blocked under “malware”: Drive-by downloads · http://www.evil.example/x": the verdict, the
// rule and reason behind it (or why the chain could not be followed), the URL as checked.
function checkResult(r) {
  const verdict = { allow: "Allowed", warn: "Warned (interstitial)", block: "Blocked" }[r.verdict] || r.verdict;
  const why = r.rule ? ` under “${r.rule}”${r.reason ? `: ${r.reason}` : ""}` : r.chain_error ? `: ${r.chain_error.reason.replaceAll("_", " ")}` : "";
  return `${verdict}${why}${r.canonical_url ? ` · ${r.canonical_url}` : ""}`;
}
