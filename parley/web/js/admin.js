// The admin console: find accounts, limit or suspend them and lift it (rule and reason), link
// rules, the reports queue (a reported post's words, with "Remove post"; a reported space's
// transcript around the report, linked into its recording, with "Remove recording"), a search
// of transcripts, appeals, the audit log and feature switches. Every action here is audited by
// the server, and the person affected is told why.
import { appealItem } from "./admin-appeals.js";
import { reportedPost, spaceRemovals } from "./admin-removals.js";
import { automatedLabel } from "./automated.js";
import { ApiError, api, del, get, post, q, whenLimited } from "./api.js";
import { policyPanel } from "./location-policy.js";
import { announce, busy, errorBox, field, h, lastAsked, onSubmit, when } from "./ui.js";

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
const RULES = ["spam", "harassment", "hate", "violence", "impersonation", "scam", "malware", "other"];

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

function heading(text, note) {
  return [h("h2", { id: "admin-h2" }, text), note ? h("p", { class: "hint" }, note) : null];
}

// A panel's heading and its waiting items, or null when there are none (said so in the panel).
async function queue(panel, title, path, empty) {
  panel.append(...title);
  const list = await get(path);
  if (list.length) return list;
  panel.append(h("p", { class: "empty" }, empty));
  return null;
}

function ruleList(id) {
  return h("datalist", { id }, RULES.map((r) => h("option", { value: r })));
}

function table(headers, rows, caption) {
  const head = headers.map((c) => h("th", { scope: "col" }, c || h("span", { class: "visually-hidden" }, "Actions")));
  return h("div", { class: "table-wrap" }, h("table", {}, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, h("tr", {}, head)), h("tbody", {}, rows)));
}

// --- accounts --------------------------------------------------------------------------------

async function accounts(panel, app) {
  const me = app.session().account.id;
  const box = errorBox();
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline-form", role: "search" }, h("label", { for: "find-q" }, "Find accounts"), h("input", { id: "find-q", name: "q", maxlength: 15, autocomplete: "off", placeholder: "handle" }), h("button", { type: "submit", class: "primary small" }, "Search"));
  panel.append(...heading("Accounts", "Search by handle. Limits and suspensions apply to every account alike."), form, box, ruleList("rules"), results);

  const search = lastAsked(
    () => get(`/admin/accounts?q=${q(form.q.value.trim())}&limit=50`),
    (found) =>
      results.replaceChildren(
        found.length
          ? table(["Account", "State", "Actions"], found.map((a) => accountRow(a, search, me)), "Accounts found")
          : h("p", { class: "empty" }, "No accounts match."),
      ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), search, box);
  });
  await search().catch((error) => box.show(error));
}

// What a moderator may do to an account, and undo: each a button that opens its own form.
const RESTRICTIONS = {
  limit: { verb: "Limit", noun: "limit", lifted: "Unlimit", did: "is limited (listening and reading only)" },
  suspend: { verb: "Suspend", noun: "suspension", lifted: "Unsuspend", did: "is suspended" },
};

function accountRow(a, refresh, me) {
  const nameId = `acct-${a.id}`;
  const controls = {
    // The server refuses a moderator's restriction of their own account (cannot_suspend_self):
    // not offered, rather than a form that can only fail.
    own: () => h("span", { class: "hint" }, "Your account: another moderator acts on it"),
    // A deleted account is gone for good: there is nothing left to restrict.
    deactivated: () => h("span", { class: "hint" }, "Deleted by its owner"),
    suspended: () => restriction(a, "suspend", true, nameId, refresh),
    limited: () => [restriction(a, "limit", true, nameId, refresh), restriction(a, "suspend", false, nameId, refresh)],
  }[a.id === me ? "own" : a.state] || (() => [restriction(a, "limit", false, nameId, refresh), restriction(a, "suspend", false, nameId, refresh)]);
  return h(
    "tr",
    {},
    h("td", { id: nameId }, h("a", { href: `#/u/${a.handle}` }, `@${a.handle}`), h("br"), h("span", { class: "hint" }, a.display_name), a.is_admin ? [" ", h("span", { class: "tag" }, "moderator")] : null, a.automated ? [h("br"), automatedLabel(a.automated)] : null),
    h("td", {}, h("span", { class: `state-${a.state}` }, a.state), heldLimit(a)),
    h("td", {}, h("div", { class: "restrictions" }, controls())),
  );
}

// A limit waiting under the suspension: lifting the suspension leaves the account limited.
function heldLimit(a) {
  if (!a.held_limit) return null;
  const until = a.held_limit.until ? ` until ${when(a.held_limit.until)}` : "";
  return [h("br"), h("span", { class: "hint" }, `then limited${until}`)];
}

// A restriction's button and form (the form exists only while open: one Rule field in a row at
// a time), or its lifting's when `lifting`.
function restriction(a, kind, lifting, nameId, refresh) {
  const what = RESTRICTIONS[kind];
  const label = lifting ? what.lifted : what.verb;
  const toggle = h("button", { type: "button", class: lifting ? "secondary small" : "danger small", "aria-describedby": nameId, "aria-expanded": "false" }, label);
  const holder = h("div", { class: "restriction" }, toggle);
  let form = null;
  const close = () => {
    form?.remove();
    form = null;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  };
  toggle.addEventListener("click", () => {
    if (form) return close();
    form = restrictionForm(a, kind, lifting, close, refresh);
    holder.append(form);
    toggle.setAttribute("aria-expanded", "true");
    form.querySelector("input, textarea").focus();
  });
  return holder;
}

function restrictionForm(a, kind, lifting, close, refresh) {
  const what = RESTRICTIONS[kind];
  const box = errorBox();
  const form = h(
    "form",
    { class: "stack", "aria-label": `${lifting ? what.lifted : what.verb} @${a.handle}` },
    lifting ? null : field({ label: "Rule", name: "rule", list: "rules", required: true, autocomplete: "off", value: "spam" }),
    field({ label: "Reason", name: "reason", tag: "textarea", rows: 2, required: true, hint: lifting ? "Recorded in the audit log." : "Shown to the account in its notice." }),
    lifting ? null : field({ label: "Until (optional)", name: "until", type: "datetime-local" }),
    box,
    h("div", { class: "actions" }, h("button", { type: "submit", class: lifting ? "primary small" : "danger small" }, lifting ? `Confirm ${what.lifted.toLowerCase()}` : `Confirm ${what.noun}`), h("button", { type: "button", class: "ghost small", onclick: close }, "Cancel")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = form.reason.value.trim();
    busy(
      form.querySelector("button[type=submit]"),
      async () => {
        if (lifting) {
          await post(`/admin/accounts/${q(a.handle)}/un${kind}`, { reason });
          announce(`@${a.handle} is active again`);
        } else {
          const body = { rule: form.rule.value.trim(), reason };
          if (form.until.value) body.until = new Date(form.until.value).toISOString();
          await post(`/admin/accounts/${q(a.handle)}/${kind}`, body);
          announce(`@${a.handle} ${what.did}`);
        }
        await refresh();
      },
      box,
    );
  });
  return form;
}

// --- link rules ------------------------------------------------------------------------------

async function linkRules(panel) {
  panel.append(...heading("Link rules", "Links matching a rule are labelled (warn) or refused (block) everywhere, including links already posted."));
  let rules;
  try {
    rules = await get("/admin/link-rules");
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
      panel.append(h("p", { class: "banner warn", role: "status" }, "Link rules aren't available on this server yet. Once it supports them, they are managed here."));
      return;
    }
    throw error;
  }
  const list = Array.isArray(rules) ? rules : rules.items || rules.rules || [];
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
      field({ label: "Match", name: "match", tag: "select", options: [["host", "Host and its subdomains"], ["prefix", "Host and path prefix"], ["url", "Exact URL"]], value: "host" }),
      field({ label: "Pattern", name: "pattern", required: true, autocomplete: "off", placeholder: "example.com" }),
      field({ label: "Verdict", name: "verdict", tag: "select", options: [["warn", "Warn (interstitial)"], ["block", "Block"]], value: "warn" }),
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
      h("td", {}, r.match),
      h("td", {}, h("code", {}, r.pattern)),
      h("td", {}, r.verdict),
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
        out.textContent = `${r.verdict}${r.canonical_url ? ` · ${r.canonical_url}` : ""}${r.rule_id ? ` · rule ${r.rule_id}` : ""}`;
      } catch (error) {
        out.textContent = error.message;
      }
    });
  });
  return h("div", { class: "card link-check-card" }, form);
}

// --- reports ---------------------------------------------------------------------------------

async function reports(panel) {
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

// A reported space's words around the moment it was reported, each line linking into the replay.
function reportTranscript(report) {
  const out = h("div", { class: "report-transcript", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "ghost small", "aria-expanded": "false" }, "Transcript");
  button.addEventListener("click", () =>
    busy(button, async () => {
      if (button.getAttribute("aria-expanded") === "true") {
        out.replaceChildren();
        button.setAttribute("aria-expanded", "false");
        return;
      }
      const found = await get(`/admin/reports/${q(report.id)}/transcript`);
      const note = found.recorded ? "Two minutes either side of the report; a time plays the recording from there." : "Two minutes either side of the report. The space has no recording to play.";
      out.replaceChildren(
        h("p", { class: "hint" }, note),
        found.lines.length ? h("ol", { class: "transcript-excerpt", "aria-label": `Transcript around report ${report.id}` }, found.lines.map(transcriptLine)) : h("p", { class: "empty" }, "Nothing was captioned then."),
      );
      button.setAttribute("aria-expanded", "true");
    }),
  );
  return h("div", {}, button, out);
}

function transcriptLine(line) {
  const when = line.replay_link ? h("a", { href: line.replay_link, "aria-label": `Play from ${clockOf(line.replay_at)}` }, clockOf(line.replay_at)) : h("span", { class: "muted" }, "not recorded");
  return h("li", {}, when, " ", h("strong", {}, line.speaker_name), ": ", line.text);
}

function clockOf(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// --- transcripts -----------------------------------------------------------------------------

async function transcripts(panel) {
  const box = errorBox();
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "inline-form", role: "search" }, h("label", { for: "transcript-q" }, "Find words"), h("input", { id: "transcript-q", name: "q", minlength: 2, maxlength: 100, autocomplete: "off" }), h("button", { type: "submit", class: "primary small" }, "Search"));
  panel.append(...heading("Transcripts", "Searches what was said in recorded spaces (while their recording is kept) and in live ones."), form, box, results);
  onSubmit(form, box, async () => {
    const hits = await get(`/admin/transcripts?q=${q(form.q.value.trim())}&limit=100`);
    results.replaceChildren(
      hits.length
        ? table(
            ["Space", "Speaker", "When", "Said"],
            hits.map((hit) =>
              h(
                "tr",
                {},
                h("td", {}, hit.space_title),
                h("td", {}, hit.line.speaker_name),
                h("td", {}, hit.line.replay_link ? h("a", { href: hit.line.replay_link }, clockOf(hit.line.replay_at)) : `${clockOf(hit.line.start)} into the space, not recorded`),
                h("td", {}, hit.line.text),
              ),
            ),
            "Transcript lines found",
          )
        : h("p", { class: "empty" }, "Nothing found."),
    );
  });
}

// --- appeals ---------------------------------------------------------------------------------

async function appeals(panel) {
  const list = await queue(panel, heading("Appeals", "Each account may appeal a decision once, to a moderator who took no part in it. Overturning a suspension lifts it."), "/admin/appeals?open=true&limit=100", "No open appeals.");
  if (!list) return;
  const decided = drawnAgain(panel, appeals);
  panel.append(h("ul", { class: "people", "aria-label": "Open appeals" }, list.map((a) => appealItem(a, decided))));
}

// A queue drawn again after an action on one of its items: the focus goes to its heading, not
// to the page (the button that had it went with the item).
function drawnAgain(panel, draw) {
  return async () => {
    panel.replaceChildren();
    await draw(panel);
    const title = panel.querySelector("h2");
    title.setAttribute("tabindex", "-1");
    title.focus();
  };
}

// --- audit -----------------------------------------------------------------------------------

async function audit(panel) {
  panel.append(...heading("Audit log", "Append-only: newest first. Nothing here can be changed or deleted."));
  const box = errorBox();
  const results = h("div");
  const form = h("form", { class: "inline-form" }, h("label", { for: "audit-action" }, "Action"), h("input", { id: "audit-action", name: "action", autocomplete: "off", placeholder: "e.g. suspend", maxlength: 32 }), h("button", { type: "submit", class: "secondary small" }, "Filter"));
  panel.append(form, box, results);
  const load = lastAsked(
    () => {
      const action = form.action.value.trim();
      return get(`/admin/audit?limit=100${action ? `&action=${q(action)}` : ""}`);
    },
    (rows) =>
      results.replaceChildren(
        rows.length
          ? table(
              ["When", "Actor", "Action", "Target", "Rule", "Reason"],
              rows.map((r) => h("tr", {}, h("td", {}, when(r.at)), h("td", {}, r.actor_handle ? `@${r.actor_handle}` : r.actor_id || "system"), h("td", {}, h("code", {}, r.action)), h("td", {}, `${r.target_type || ""} ${r.target_handle || r.target_id || ""}`), h("td", {}, r.rule || "—"), h("td", {}, r.reason || "—"))),
              "Audit log entries",
            )
          : h("p", { class: "empty" }, "No entries."),
      ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form.querySelector("button"), load, box);
  });
  await load();
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
