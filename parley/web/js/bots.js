// Your bots and API tokens, on your own profile: register a bot you answer for, make tokens
// (for a bot or for your own scripts) with the scopes they need, the secret shown once, see
// when each was last used, revoke a token, delete a bot. Only a signed-in session gets here: no
// token may make tokens.
import { del, get, post, q } from "./api.js";
import { automatedLabel } from "./automated.js";
import { announce, errorBox, field, foldedForm, h, onClick, onSubmit, when } from "./ui.js";

const SCOPES = [
  ["posts:write", "Write posts"],
  ["posts:read", "Read posts and the timeline"],
  ["account:read", "Read profiles and notifications"],
  ["account:write", "Edit the profile"],
  ["social:write", "Follow and block"],
  ["spaces:read", "See spaces"],
  ["spaces:listen", "Join and listen to spaces"],
  ["spaces:speak", "Speak in spaces"],
  ["spaces:host", "Host spaces"],
  ["reports:write", "Send reports"],
];

export function botsSection(me) {
  const state = { bots: [], tokens: [] };
  const botList = h("ul", { class: "bot-list", "aria-label": "Your bots" });
  const tokenList = h("ul", { class: "token-list", "aria-label": "Your API tokens" });
  const secret = h("div", { class: "token-secret", role: "status", hidden: true });
  const tokenForm = newTokenForm(me, state, secret, () => refresh());
  const section = h(
    "section",
    { class: "card stack bots", "aria-labelledby": "bots-h" },
    h("h2", { id: "bots-h" }, "Bots and API tokens"),
    h("p", { class: "hint" }, "A bot is an automated account you answer for: everything it does carries an Automated label with your handle. It acts only through tokens you make for it."),
    botList,
    newBotForm(() => refresh()),
    h("h3", {}, "API tokens"),
    tokenList,
    secret,
    tokenForm.details,
  );
  async function refresh() {
    [state.bots, state.tokens] = await Promise.all([get("/me/bots"), get("/me/tokens")]);
    botList.replaceChildren(...(state.bots.length ? state.bots.map((b) => botItem(b, refresh)) : [h("li", { class: "empty" }, "No bots yet.")]));
    tokenList.replaceChildren(...(state.tokens.length ? state.tokens.map((t) => tokenItem(t, refresh)) : [h("li", { class: "empty" }, "No tokens.")]));
    tokenForm.setBots(state.bots);
  }
  refresh().catch((error) => botList.replaceChildren(h("li", { class: "error" }, error.message)));
  return section;
}

function botItem(bot, refresh) {
  const box = errorBox();
  const remove = h("button", { type: "button", class: "danger small", "aria-label": `Delete bot @${bot.handle}` }, "Delete");
  onClick(remove, box, async () => {
    if (!window.confirm(`Delete @${bot.handle}? Its tokens stop working at once and its posts are no longer shown.`)) return;
    await del(`/me/bots/${q(bot.handle)}`);
    announce(`Deleted @${bot.handle}`);
    await refresh();
  });
  return h(
    "li",
    { class: "bot" },
    h("a", { href: `#/u/${bot.handle}` }, bot.display_name, " ", h("span", { class: "handle" }, `@${bot.handle}`)),
    " ",
    automatedLabel(bot.automated),
    bot.state !== "active" ? h("span", { class: "tag" }, bot.state) : null,
    remove,
    box,
  );
}

function tokenItem(token, refresh) {
  const box = errorBox();
  const revoke = h("button", { type: "button", class: "danger small", "aria-label": `Revoke token ${token.name}` }, "Revoke");
  onClick(revoke, box, async () => {
    await del(`/me/tokens/${q(token.id)}`);
    announce(`Revoked ${token.name}: it stops working at once`);
    await refresh();
  });
  return h(
    "li",
    { class: "token" },
    h(
      "span",
      { class: "token-what" },
      h("strong", {}, token.name),
      ` for @${token.account.handle} · `,
      h("span", { class: "scopes" }, token.scopes.join(", ")),
      h("span", { class: "hint" }, ` · last used ${when(token.last_used_at)}`),
    ),
    revoke,
    box,
  );
}

function newBotForm(refresh) {
  const { details, form, box } = foldedForm({
    summary: "Create a bot",
    controls: [
      field({ label: "Bot handle", name: "handle", maxlength: 15, autocomplete: "off", required: true, hint: "Letters, digits and underscores" }),
      field({ label: "Bot display name", name: "display_name", maxlength: 50, autocomplete: "off", required: true }),
    ],
    submit: "Create bot",
  });
  onSubmit(form, box, async () => {
    const made = await post("/me/bots", { handle: form.handle.value.trim(), display_name: form.display_name.value.trim() });
    form.reset();
    details.open = false;
    announce(`Created bot @${made.handle}`);
    await refresh();
  });
  return details;
}

function newTokenForm(me, state, secret, refresh) {
  const forWhom = h("select", { id: "token-for", name: "bot", onchange: () => (forWhom.dataset.chosen = "1") });
  const checks = SCOPES.map(([value, label]) => {
    const id = `scope-${value.replace(/\W/g, "-")}`;
    return h("div", { class: "field check" }, h("input", { type: "checkbox", id, name: "scope", value, checked: value === "posts:write" }), h("label", { for: id }, h("code", {}, value), ` ${label}`));
  });
  const { details, form, box } = foldedForm({
    summary: "Create a token",
    controls: [
      field({ label: "Token name", name: "name", maxlength: 50, autocomplete: "off", required: true, placeholder: "e.g. flight tracker" }),
      h("div", { class: "field" }, h("label", { for: "token-for" }, "Acts as"), forWhom),
      h("fieldset", { class: "scopes" }, h("legend", {}, "Scopes: what it may do"), checks),
    ],
    submit: "Create token",
    submitClass: "primary small",
  });
  onSubmit(form, box, async () => {
    const scopes = [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value);
    const made = await post("/me/tokens", { name: form.name.value.trim(), scopes, bot: forWhom.value || null });
    form.reset();
    details.open = false;
    secret.replaceChildren(
      h("p", {}, h("strong", {}, `Token for @${made.account.handle}: copy it now. `), "It is shown this once; only its hash is kept."),
      h("code", { class: "secret", tabindex: "0" }, made.token),
    );
    secret.hidden = false;
    announce("Token created: copy it now, it is shown once");
    await refresh();
  });
  return {
    details,
    setBots(bots) {
      const chosen = forWhom.value;
      forWhom.replaceChildren(h("option", { value: "" }, `Me (@${me.handle})`), ...bots.filter((b) => b.state === "active").map((b) => h("option", { value: b.handle }, `@${b.handle} (bot)`)));
      // A bot by default (what tokens are mostly for), unless the person chose otherwise.
      const keep = forWhom.dataset.chosen && [...forWhom.options].some((o) => o.value === chosen);
      forWhom.value = keep ? chosen : forWhom.options[1]?.value || "";
    },
  };
}
