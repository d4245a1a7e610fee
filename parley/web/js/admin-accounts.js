// The admin console's accounts: find them by handle, limit or suspend any of them (a rule, a
// reason shown to the account, an optional end) and lift it; one's own account is another
// moderator's to act on.
import { heading, ruleList, table } from "./admin-panel.js";
import { get, post, q } from "./api.js";
import { automatedLabel } from "./automated.js";
import { announce, busy, errorBox, field, h, lastAsked, when } from "./ui.js";

export async function accounts(panel, app) {
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
    h("td", {}, h("span", { class: `state-${a.state}` }, a.state), restrictionEnd(a), heldLimit(a)),
    h("td", {}, h("div", { class: "restrictions" }, controls())),
  );
}

// When the suspension or limit ends on its own; without an end it lasts until lifted.
function restrictionEnd(a) {
  if (!["suspended", "limited"].includes(a.state)) return null;
  return [h("br"), h("span", { class: "hint" }, a.until ? `until ${when(a.until)}` : "until lifted")];
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

