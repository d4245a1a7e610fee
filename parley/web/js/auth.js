// Sign up and sign in. A suspended account's refused sign-in leads to its notice and appeal.
import { ApiError, post, saveAppealSession, saveSession } from "./api.js";
import { announce, errorBox, field, h, onSubmit } from "./ui.js";

async function startSession(handle, password) {
  const { token, account } = await post("/sessions", { handle, password });
  // The server says whether this account moderates (it decides again on every admin request).
  saveSession({ token, account, admin: Boolean(account.is_admin) });
  return account;
}

function afterSignIn(app) {
  const next = sessionStorage.getItem("parley.after");
  sessionStorage.removeItem("parley.after");
  app.go(next && next !== "/signin" && next !== "/signup" ? next : "/");
}

function suspended(error, handle, app) {
  if (error instanceof ApiError && error.code === "account_suspended") {
    saveAppealSession({ notice: error.problem.notice, appeal_token: error.problem.appeal_token, handle });
    app.go("/notice");
    return true;
  }
  return false;
}

function card(title, lede, form, footer) {
  return h(
    "section",
    { class: "page narrow auth", "aria-labelledby": "auth-title" },
    h("div", { class: "card" }, h("h1", { id: "auth-title", tabindex: "-1" }, title), h("p", { class: "lede" }, lede), form, footer),
  );
}

export function renderSignIn(main, _params, app) {
  const box = errorBox();
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign in");
  const form = h(
    "form",
    { novalidate: true, "aria-describedby": "auth-title" },
    field({ label: "Handle", name: "handle", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    box,
    submit,
  );
  onSubmit(form, box, async () => {
    const { handle, password } = credentials(form);
    try {
      const account = await startSession(handle, password);
      announce(`Signed in as ${account.display_name}`);
      afterSignIn(app);
    } catch (error) {
      if (!suspended(error, handle, app)) throw error;
    }
  });
  main.append(card("Sign in", "Welcome back. Live rooms are waiting.", form, h("p", { class: "switch" }, "New here? ", h("a", { href: "#/signup" }, "Create an account"))));
}

export function renderSignUp(main, _params, app) {
  const box = errorBox();
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign up");
  const form = h(
    "form",
    { novalidate: true },
    field({ label: "Handle", name: "handle", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false", hint: "Up to 15 letters, digits or underscores: how people find you." }),
    field({ label: "Display name", name: "display_name", autocomplete: "name", required: true }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true, hint: "At least 8 characters." }),
    box,
    submit,
  );
  onSubmit(form, box, async () => {
    const { handle, password } = credentials(form);
    const display_name = form.display_name.value.trim() || handle;
    await post("/accounts", { handle, password, display_name });
    const account = await startSession(handle, password);
    announce(`Welcome to Parley, ${account.display_name}`);
    afterSignIn(app);
  });
  main.append(card("Create your account", "Host live conversations, or just listen in.", form, h("p", { class: "switch" }, "Already have an account? ", h("a", { href: "#/signin" }, "Sign in"))));
}

// The handle as people type it (with or without the @) and the password.
function credentials(form) {
  return { handle: form.handle.value.trim().replace(/^@/, ""), password: form.password.value };
}
