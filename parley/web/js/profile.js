// A profile: who they are, follow and block, report, and their posts. Your own profile lets you
// edit your name and bio, write a post, change your password and sign out everywhere.
import { api, del, get, post, q, saveSession } from "./api.js";
import { postItem } from "./home.js";
import { showText } from "./posts.js";
import { announce, avatar, busy, errorBox, field, h } from "./ui.js";

const RULES = [
  ["spam", "Spam"],
  ["harassment", "Harassment"],
  ["hate", "Hateful conduct"],
  ["violence", "Violent threats"],
  ["impersonation", "Impersonation"],
  ["other", "Something else"],
];

export async function render(main, [handle], app) {
  const session = app.session();
  let profile;
  try {
    profile = await get(`/accounts/${q(handle)}`);
  } catch (error) {
    main.append(h("section", { class: "page narrow" }, h("h1", { tabindex: "-1" }, "No such account"), h("p", {}, error.message)));
    return;
  }
  app.titled(`${profile.display_name} (@${profile.handle})`);
  const isMe = session && session.account.id === profile.id;
  const stats = h("p", { class: "stats" });
  const bio = h("p", { class: "bio" });
  const actions = h("div", { class: "actions" });
  const posts = h("ul", { class: "posts", "aria-label": `Posts by @${profile.handle}` });
  const box = errorBox();

  function drawHead() {
    stats.replaceChildren(h("span", {}, h("strong", {}, String(profile.followers)), profile.followers === 1 ? " follower" : " followers"), h("span", {}, h("strong", {}, String(profile.following)), " following"));
    if (profile.bio) showText(bio, profile.bio_parts, profile.bio);
    else bio.textContent = isMe ? "You haven't written a bio yet." : "";
    actions.replaceChildren();
    if (!session || isMe) return;
    const follow = h("button", { type: "button", class: profile.followed_by_me ? "secondary" : "primary", "aria-pressed": String(!!profile.followed_by_me) }, profile.followed_by_me ? "Following" : "Follow");
    follow.addEventListener("click", () =>
      busy(
        follow,
        async () => {
          const path = `/accounts/${q(profile.handle)}/follow`;
          if (profile.followed_by_me) await del(path);
          else await post(path);
          profile = await get(`/accounts/${q(profile.handle)}`);
          drawHead();
          actions.querySelector("button")?.focus();
          announce(profile.followed_by_me ? `Following @${profile.handle}` : `Unfollowed @${profile.handle}`);
        },
        box,
      ),
    );
    const block = h("button", { type: "button", class: "danger", "aria-pressed": String(!!profile.blocked_by_me) }, profile.blocked_by_me ? "Unblock" : "Block");
    block.addEventListener("click", () =>
      busy(
        block,
        async () => {
          const path = `/accounts/${q(profile.handle)}/block`;
          if (profile.blocked_by_me) await del(path);
          else await post(path);
          profile = await get(`/accounts/${q(profile.handle)}`);
          drawHead();
          actions.querySelectorAll("button")[1]?.focus();
          announce(profile.blocked_by_me ? `Blocked @${profile.handle}. They can't join your spaces.` : `Unblocked @${profile.handle}`);
        },
        box,
      ),
    );
    actions.append(follow, block, reportForm());
  }

  function reportForm() {
    const rbox = errorBox();
    const form = h(
      "form",
      { class: "stack report" },
      field({ label: "Rule broken", name: "rule", tag: "select", options: RULES, value: "spam" }),
      field({ label: "What happened (optional)", name: "comment", tag: "textarea", rows: 2, maxlength: 1000 }),
      rbox,
      h("button", { type: "submit", class: "secondary small" }, "Send report"),
    );
    const details = h("details", { class: "report-box" }, h("summary", {}, `Report @${profile.handle}`), form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(
        form.querySelector("button"),
        async () => {
          await post("/reports", { target_type: "account", target_id: profile.handle, rule: form.rule.value, comment: form.comment.value.trim() });
          details.open = false;
          form.reset();
          announce("Thanks. Moderators will review your report.");
        },
        rbox,
      );
    });
    return details;
  }

  async function loadPosts() {
    const list = await get(`/accounts/${q(profile.handle)}/posts?limit=50`);
    posts.replaceChildren(...(list.length ? list.map(postItem) : [h("li", { class: "empty" }, "No posts yet.")]));
  }

  function composer() {
    const pbox = errorBox();
    const form = h("form", { class: "card compose-post" }, field({ label: "New post", name: "text", tag: "textarea", rows: 3, maxlength: 500 }), pbox, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary small" }, "Post")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = form.text.value.trim();
      if (!text) return;
      busy(
        form.querySelector("button"),
        async () => {
          await post("/posts", { text });
          form.reset();
          announce("Posted");
          await loadPosts();
        },
        pbox,
      );
    });
    return form;
  }

  function editor() {
    const ebox = errorBox();
    const form = h(
      "form",
      { class: "stack" },
      field({ label: "Display name", name: "display_name", value: profile.display_name, maxlength: 50, autocomplete: "name" }),
      field({ label: "Bio", name: "bio", tag: "textarea", rows: 3, maxlength: 500 }),
      ebox,
      h("button", { type: "submit", class: "secondary small" }, "Save profile"),
    );
    form.bio.value = profile.bio || "";
    const details = h("details", {}, h("summary", {}, "Edit profile"), form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(
        form.querySelector("button"),
        async () => {
          profile = await api("PATCH", "/accounts/me", { display_name: form.display_name.value.trim(), bio: form.bio.value.trim() });
          showText(main.querySelector("h1"), profile.display_name_parts, profile.display_name);
          drawHead();
          details.open = false;
          announce("Profile saved");
        },
        ebox,
      );
    });
    return details;
  }

  // Your sessions: a new password signs out every other device; "everywhere" includes this one.
  function security() {
    const pbox = errorBox();
    const form = h(
      "form",
      { class: "stack" },
      field({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
      field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters. Your other devices are signed out." }),
      pbox,
      h("button", { type: "submit", class: "secondary small" }, "Change password"),
    );
    const details = h("details", {}, h("summary", {}, "Change password"), form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(
        form.querySelector("button"),
        async () => {
          await post("/accounts/me/password", { current_password: form.current_password.value, new_password: form.new_password.value });
          form.reset();
          details.open = false;
          announce("Password changed. Your other devices are signed out.");
        },
        pbox,
      );
    });
    const sbox = errorBox();
    const everywhere = h("button", { type: "button", class: "danger small" }, "Sign out everywhere");
    everywhere.addEventListener("click", () =>
      busy(
        everywhere,
        async () => {
          await del("/sessions");
          saveSession(null);
          announce("Signed out on every device");
          app.go("/");
        },
        sbox,
      ),
    );
    return h("section", { class: "card stack", "aria-labelledby": "security-h" }, h("h2", { id: "security-h" }, "Password and sessions"), details, h("div", { class: "actions" }, everywhere), sbox);
  }

  drawHead();
  main.append(
    h(
      "div",
      { class: "page narrow profile-page" },
      h(
        "section",
        { class: "card", "aria-labelledby": "profile-name" },
        h("div", { class: "profile-head" }, avatar(profile.display_name || profile.handle, { size: "lg" }), h("div", {}, showText(h("h1", { id: "profile-name", tabindex: "-1" }), profile.display_name_parts, profile.display_name), h("p", { class: "host" }, `@${profile.handle}`), stats)),
        bio,
        actions,
        box,
        isMe ? editor() : null,
      ),
      isMe ? h("section", { "aria-label": "Write a post" }, composer()) : null,
      isMe ? security() : null,
      h("section", { "aria-labelledby": "posts-h" }, h("h2", { id: "posts-h" }, "Posts"), posts),
    ),
  );
  await loadPosts().catch((error) => posts.replaceChildren(h("li", { class: "error" }, error.message)));
}
