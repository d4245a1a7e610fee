// A profile: who they are, follow and block, report, their spaces and their posts. Your own
// profile lets you edit your name and bio, write a post, change your password, sign out
// everywhere and delete the account.
import { api, del, get, post, q, saveSession } from "./api.js";
import { automatedLabel } from "./automated.js";
import { botsSection } from "./bots.js";
import { postItem } from "./home.js";
import { spacesSection } from "./profile-spaces.js";
import { showText } from "./posts.js";
import { announce, avatar, busy, confirmInPlace, errorBox, field, foldedForm, h, onClick, onSubmit } from "./ui.js";

const RULES = [
  ["spam", "Spam"],
  ["harassment", "Harassment"],
  ["hate", "Hateful conduct"],
  ["violence", "Violent threats"],
  ["impersonation", "Impersonation"],
  ["other", "Something else"],
];

// What a profile page keeps: the account shown (replaced after each change) and its parts.
function profilePage(main, app, profile) {
  const session = app.session();
  return {
    main,
    app,
    session,
    profile,
    isMe: !!session && session.account.id === profile.id,
    stats: h("p", { class: "stats" }),
    bio: h("p", { class: "bio" }),
    actions: h("div", { class: "actions" }),
    posts: h("ul", { class: "posts", "aria-label": `Posts by @${profile.handle}`, tabindex: "-1" }),
    box: errorBox(),
  };
}

export async function render(main, [handle], app) {
  let profile;
  try {
    profile = await get(`/accounts/${q(handle)}`);
  } catch (error) {
    // A suspended account's page says so (its posts come back if the suspension is lifted).
    const heading = error.code === "account_unavailable" ? "Account suspended" : "No such account";
    main.append(h("section", { class: "page narrow" }, h("h1", { tabindex: "-1" }, heading), h("p", {}, error.message)));
    return;
  }
  app.titled(`${profile.display_name} (@${profile.handle})`);
  const page = profilePage(main, app, profile);
  drawHead(page);
  main.append(
    h(
      "div",
      { class: "page narrow profile-page" },
      h(
        "section",
        { class: "card", "aria-labelledby": "profile-name" },
        h("div", { class: "profile-head" }, avatar(profile.handle, { size: "lg", name: profile.display_name }), h("div", {}, showText(h("h1", { id: "profile-name", tabindex: "-1" }), profile.display_name_parts, profile.display_name), h("p", { class: "host" }, `@${profile.handle}`, " ", automatedLabel(profile.automated)), page.stats)),
        page.bio,
        page.actions,
        page.box,
        page.isMe ? editor(page) : null,
      ),
      spacesSection(profile, app),
      page.isMe ? h("section", { "aria-label": "Write a post" }, composer(page)) : null,
      page.isMe && !profile.automated ? botsSection(profile) : null,
      page.isMe ? security(page) : null,
      h("section", { "aria-labelledby": "posts-h" }, h("h2", { id: "posts-h" }, "Posts"), page.posts),
    ),
  );
  await loadPosts(page).catch((error) => page.posts.replaceChildren(h("li", { class: "error" }, error.message)));
}

function drawHead(page) {
  const { profile, stats, bio, actions } = page;
  stats.replaceChildren(h("span", {}, h("strong", {}, String(profile.followers)), profile.followers === 1 ? " follower" : " followers"), h("span", {}, h("strong", {}, String(profile.following)), " following"));
  if (profile.bio) showText(bio, profile.bio_parts, profile.bio);
  else bio.textContent = page.isMe ? "You haven't written a bio yet." : "";
  actions.replaceChildren();
  if (!page.session || page.isMe) return;
  actions.append(relationButton(page, RELATIONS.follow), relationButton(page, RELATIONS.block), reportForm(profile));
}

// Following and blocking: a toggle each, at its place among the actions (focus returns there).
const RELATIONS = {
  follow: {
    place: 0,
    path: "follow",
    isOn: (p) => p.followed_by_me,
    className: (on) => (on ? "secondary" : "primary"),
    label: (on) => (on ? "Following" : "Follow"),
    said: (on, handle) => (on ? `Following @${handle}` : `Unfollowed @${handle}`),
  },
  block: {
    place: 1,
    path: "block",
    isOn: (p) => p.blocked_by_me,
    className: () => "danger",
    label: (on) => (on ? "Unblock" : "Block"),
    said: (on, handle) => (on ? `Blocked @${handle}. They can't join your spaces.` : `Unblocked @${handle}`),
  },
};

function relationButton(page, relation) {
  const on = !!relation.isOn(page.profile);
  const toggle = h("button", { type: "button", class: relation.className(on), "aria-pressed": String(on) }, relation.label(on));
  toggle.addEventListener("click", () =>
    busy(
      toggle,
      async () => {
        const path = `/accounts/${q(page.profile.handle)}/${relation.path}`;
        if (relation.isOn(page.profile)) await del(path);
        else await post(path);
        page.profile = await get(`/accounts/${q(page.profile.handle)}`);
        drawHead(page);
        page.actions.querySelectorAll("button")[relation.place]?.focus();
        announce(relation.said(!!relation.isOn(page.profile), page.profile.handle));
      },
      page.box,
    ),
  );
  return toggle;
}

function reportForm(profile) {
  const { details, form, box } = foldedForm({
    summary: `Report @${profile.handle}`,
    controls: [
      field({ label: "Rule broken", name: "rule", tag: "select", options: RULES, value: "spam" }),
      field({ label: "What happened (optional)", name: "comment", tag: "textarea", rows: 2, maxlength: 1000 }),
    ],
    submit: "Send report",
    formClass: "stack report",
    detailsClass: "report-box",
  });
  onSubmit(form, box, async () => {
    await post("/reports", { target_type: "account", target_id: profile.handle, rule: form.rule.value, comment: form.comment.value.trim() });
    details.open = false;
    form.reset();
    announce("Thanks. Moderators will review your report.");
  });
  return details;
}

async function loadPosts(page) {
  const list = await get(`/accounts/${q(page.profile.handle)}/posts?limit=50`);
  const item = (p) => postItem(p, page.app, page.isMe ? deleteControl(page, p) : null);
  page.posts.replaceChildren(...(list.length ? list.map(item) : [h("li", { class: "empty" }, "No posts yet.")]));
}

// Deleting one's own post asks once more in place: it is for good.
function deleteControl(page, p) {
  return confirmInPlace({
    label: "Delete",
    labelAttrs: { "aria-label": `Delete post: ${p.text.slice(0, 40)}` },
    question: "Delete this post for good?",
    yes: "Delete post",
    keep: "Keep",
    cls: "post-actions",
    work: async () => {
      await del(`/posts/${q(p.id)}`);
      announce("Post deleted");
      await loadPosts(page);
      page.posts.focus();
    },
  });
}

function composer(page) {
  const pbox = errorBox();
  const form = h("form", { class: "card compose-post" }, field({ label: "New post", name: "text", tag: "textarea", rows: 3, maxlength: 500 }), pbox, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary small" }, "Post")));
  onSubmit(form, pbox, async () => {
    const text = form.text.value.trim();
    if (!text) return;
    await post("/posts", { text });
    form.reset();
    announce("Posted");
    await loadPosts(page);
  });
  return form;
}

function editor(page) {
  const { details, form, box } = foldedForm({
    summary: "Edit profile",
    controls: [
      field({ label: "Display name", name: "display_name", value: page.profile.display_name, maxlength: 50, autocomplete: "name" }),
      field({ label: "Bio", name: "bio", tag: "textarea", rows: 3, maxlength: 500 }),
    ],
    submit: "Save profile",
  });
  form.bio.value = page.profile.bio || "";
  onSubmit(form, box, async () => {
    page.profile = await api("PATCH", "/accounts/me", { display_name: form.display_name.value.trim(), bio: form.bio.value.trim() });
    showText(page.main.querySelector("h1"), page.profile.display_name_parts, page.profile.display_name);
    drawHead(page);
    details.open = false;
    announce("Profile saved");
  });
  return details;
}

// Your sessions: a new password signs out every other device; "everywhere" includes this one.
function security(page) {
  const { details, form, box } = foldedForm({
    summary: "Change password",
    controls: [
      field({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password", required: true }),
      field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, hint: "At least 8 characters. Your other devices are signed out." }),
    ],
    submit: "Change password",
  });
  onSubmit(form, box, async () => {
    await post("/accounts/me/password", { current_password: form.current_password.value, new_password: form.new_password.value });
    form.reset();
    details.open = false;
    announce("Password changed. Your other devices are signed out.");
  });
  const sbox = errorBox();
  const everywhere = h("button", { type: "button", class: "danger small" }, "Sign out everywhere");
  onClick(everywhere, sbox, async () => {
    await del("/sessions");
    saveSession(null);
    announce("Signed out on every device");
    page.app.go("/");
  });
  // Notices sit with the account's own matters: read seldom, but needed when a moderator acts.
  const notices = h("p", { class: "notices-link" }, h("a", { href: "#/notices" }, "Moderation notices"), h("span", { class: "hint" }, " · what moderators did about your account or posts, and your appeals"));
  return h("section", { class: "card stack", "aria-labelledby": "security-h" }, h("h2", { id: "security-h" }, "Password and sessions"), details, h("div", { class: "actions" }, everywhere), sbox, notices, deleteAccount(page));
}

// Deleting the account: for good, so it says what goes and asks for the password.
function deleteAccount(page) {
  const { details, form, box } = foldedForm({
    summary: "Delete account",
    controls: [
      h("p", { class: "hint" }, "Your profile, posts and bots are removed, you leave every space (a space you host passes to a cohost or ends), and every device is signed out. Your handle is not given to anyone else. This cannot be undone."),
      field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    ],
    submit: "Delete my account",
    submitClass: "danger small",
    detailsClass: "danger-zone",
  });
  onSubmit(form, box, async () => {
    await post("/accounts/me/deactivate", { password: form.password.value });
    saveSession(null);
    announce("Your account was deleted", { assertive: true });
    page.app.go("/");
  });
  return details;
}
