// The admin console: its sections, each a panel of its own module (accounts, link rules,
// reports, transcripts, the audit log, the location policy) or of this one (the appeals queue,
// whose items are admin-appeals.js, and feature switches). Every action here is audited by the
// server, and the person affected is told why.
import { accounts } from "./admin-accounts.js";
import { appealItem } from "./admin-appeals.js";
import { audit } from "./admin-audit.js";
import { linkRules } from "./admin-link-rules.js";
import { drawnAgain, heading, queue } from "./admin-panel.js";
import { reports } from "./admin-reports.js";
import { transcripts } from "./admin-transcripts.js";
import { api, get, q, whenLimited } from "./api.js";
import { policyPanel } from "./location-policy.js";
import { announce, errorBox, field, h, onSubmit } from "./ui.js";

const TABS = [
  ["accounts", "Accounts"],
  ["link-rules", "Link rules"],
  ["reports", "Reports"],
  ["transcripts", "Transcripts"],
  ["appeals", "Appeals"],
  ["audit", "Audit log"],
  ["features", "Feature switches"],
  ["location-policy", "Location policy"],
];

export async function render(main, [tab = "accounts"], app) {
  const session = app.session();
  if (!session.admin) {
    main.append(h("section", { class: "page narrow" }, h("div", { class: "card center" }, h("h1", { tabindex: "-1" }, "Moderators only"), h("p", {}, "This console is for moderators."), h("a", { href: "#/", class: "button secondary" }, "Back to home"))));
    return;
  }
  const current = TABS.find(([id]) => id === tab) || TABS[0];
  app.titled(`${current[1]} · Admin`);
  const panel = h("section", { class: "panel", "aria-labelledby": "admin-h2" });
  const limitNote = h("div", { role: "status" });
  sayIfLimited(limitNote);
  main.append(
    h(
      "div",
      { class: "page" },
      h("h1", { tabindex: "-1" }, "Admin console"),
      h("p", { class: "lede" }, "Every action here is written to the audit log and explained to the account it affects."),
      limitNote,
      h(
        "div",
        { class: "admin" },
        h("nav", { class: "admin-nav", "aria-label": "Admin sections" }, h("ul", {}, TABS.map(([id, label]) => h("li", {}, h("a", { href: `#/admin/${id}`, "aria-current": id === current[0] ? "page" : null }, label))))),
        panel,
      ),
    ),
  );
  const renderers = { accounts, "link-rules": linkRules, reports, transcripts, appeals, audit, features, "location-policy": policyPanel };
  await renderers[current[0]](panel, app);
}

// A limited moderator reads the console and its queues but acts on nothing: the server refuses
// each action (account_limited). Said once, up front, rather than learnt one refusal at a time;
// read beside the panel's own request, so the panel is not kept waiting for it.
function sayIfLimited(holder) {
  whenLimited(() => holder.append(h("p", { class: "banner warn" }, "Your account is limited: you can read this console and its queues, but another moderator takes every action. ", h("a", { href: "#/notices" }, "See why"))));
}

// --- appeals ---------------------------------------------------------------------------------

async function appeals(panel) {
  const list = await queue(panel, heading("Appeals", "Each account may appeal a decision once, to a moderator who took no part in it. Overturning a suspension lifts it."), "/admin/appeals?open=true&limit=100", "No open appeals.");
  if (!list) return;
  const decided = drawnAgain(panel, appeals);
  panel.append(h("ul", { class: "people", "aria-label": "Open appeals" }, list.map((a) => appealItem(a, decided))));
}

// --- feature switches ------------------------------------------------------------------------

async function features(panel, app) {
  panel.append(...heading("Feature switches", "Switching Spaces off ends live spaces gracefully with your message; switching back on restores service."));
  const { features: all } = await get("/status");
  const names = Object.keys(all || {}).length ? Object.keys(all) : ["spaces", "spaces.create"];
  const LABELS = { spaces: "Spaces (joining and listening)", "spaces.create": "Creating new spaces" };
  for (const name of names) {
    const f = all?.[name] || { enabled: true, message: "" };
    const box = errorBox();
    const id = `feature-${name.replace(/\W/g, "-")}`;
    const form = h(
      "form",
      { class: "switch-row" },
      h("div", { class: "field check" }, h("input", { type: "checkbox", id, name: "enabled", checked: f.enabled !== false }), h("label", { for: id }, LABELS[name] || name)),
      field({ label: "Public message", name: "message", value: f.message || "", maxlength: 280, placeholder: "Shown to everyone while it is off" }),
      h("button", { type: "submit", class: "secondary small", "aria-label": `Save ${LABELS[name] || name}` }, "Save"),
      box,
    );
    onSubmit(form, box, async () => {
      await api("PUT", `/admin/features/${q(name)}`, { enabled: form.enabled.checked, message: form.message.value.trim() });
      announce(`${LABELS[name] || name} ${form.enabled.checked ? "on" : "off"}`);
      app.refreshStatus?.();
    });
    panel.append(form);
  }
}
