// Appealing a moderation notice, once. Shared by the suspended account's notice (notice.js, which
// has only the appeal-only token its refused sign-in gave) and the Notices screen (notices.js,
// the normal session): the caller says which token to use and what to say once it is sent.
import { post } from "./api.js";
import { announce, busy, errorBox, field, h } from "./ui.js";

// The form: one textarea and "Send appeal". `token` undefined means the signed-in session's.
// Once sent, the form gives way to `sent`, focused so that a screen reader hears it.
export function appealForm(notice, { token, sent } = {}) {
  const box = errorBox();
  const form = h(
    "form",
    { class: "stack appeal-form" },
    h("p", {}, "If you think this is a mistake, tell us why. You can appeal once; a moderator reviews it and the decision shows here."),
    field({ label: "Your appeal", name: "text", tag: "textarea", rows: 5, maxlength: 2000, required: true }),
    box,
    h("button", { type: "submit", class: "primary" }, "Send appeal"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = form.text.value.trim();
    if (!text) {
      box.show(new Error("Write a few words about why the decision is wrong."));
      form.text.focus();
      return;
    }
    busy(
      form.querySelector("button"),
      async () => {
        await post("/appeals", { notice_id: notice.id, text }, { token });
        const done = h("p", { role: "status", tabindex: "-1" }, sent || "Appeal sent. A moderator who took no part in the decision will review it; the decision will show here.");
        form.replaceWith(done);
        done.focus();
        announce("Appeal sent");
      },
      box,
    );
  });
  return form;
}
