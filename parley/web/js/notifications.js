// Notifications: what the server told this account (a space went live, moved or called off, a
// post of theirs removed by a moderator, a suspension lifted, an appeal decided), newest first.
// Opening the screen marks them all read on every device, but this rendering keeps the unread
// ones marked, so that one sees what was new. While it is open, what the nav's poll finds new is
// added on top (the rows already shown stay, and so does the focus) and marked read too.
import { get, post } from "./api.js";
import { NEW_NOTIFICATIONS, setUnread } from "./bell.js";
import { ago, avatar, h, when } from "./ui.js";

const LIMIT = 50;
const EMPTY = "Nothing yet. When someone you follow goes live, or a space you asked to be reminded of starts, it shows here.";

// Each kind's {icon, text, detail}; rows are stored JSON, so any field may be missing.
const KINDS = {
  space_live(data) {
    const link = spaceLink(data);
    // Older rows carry no host.
    if (!data.host) return { icon: parleyIcon(), text: [link, " went live"] };
    return { icon: avatar(data.host, { size: "sm" }), text: [`@${data.host}'s space `, link, " went live"] };
  },
  space_rescheduled(data) {
    const title = spaceLink(data);
    const at = data.scheduled_start ? when(data.scheduled_start) : "another time";
    return { icon: hostIcon(data), text: [title, ` moved to ${at}`], detail: "Your reminder is still set." };
  },
  space_cancelled(data) {
    const what = data.title ? `“${data.title}”` : "A space";
    if (data.reason === "not_started") return { icon: hostIcon(data), text: [what, " was called off: it never went live"] };
    return { icon: hostIcon(data), text: [what, " was cancelled"] };
  },
  // The why, and the appeal, are on the Notices screen: the notification says only what and where.
  // A bot's (`bot`) are told to its owner too, who answers for it.
  post_removed: (data) => moderated(`A moderator removed a post of ${yours(data)} under `, data),
  space_removed: (data) => moderated(`A moderator ended ${yours(data, "space")} under `, data),
  recording_removed: (data) => moderated(`A moderator removed the recording of ${yours(data, "space")} under `, data),
  report_resolved(data) {
    const what = { account: "an account", space: "a space", post: "a post" }[data.target_type] || "something";
    const verdict = data.status === "actioned" ? ["it broke the rule ", h("code", {}, data.rule || "a rule"), ", and a moderator acted on it."] : "a moderator found no rule broken.";
    return { icon: parleyIcon(), text: [`Your report about ${what} was reviewed: `, verdict].flat() };
  },
  limited(data) {
    const until = data.until ? ` until ${when(data.until)}` : "";
    return moderated("A moderator limited your account under ", data, `${until}: you can listen and read, but not post, host, speak or react.`);
  },
  unlimited(data) {
    const whose = data.bot ? `your bot @${data.bot}` : "your account";
    return { icon: parleyIcon(), text: `The limit on ${whose} was lifted.`, detail: data.reason };
  },
  unsuspended(data) {
    const whose = data.bot ? `The suspension of your bot @${data.bot}` : "Your account's suspension";
    if (!data.still_limited) return { icon: parleyIcon(), text: `${whose} was lifted.`, detail: data.reason };
    // The suspension had come over a limit that still runs: it holds again.
    const until = data.until ? ` until ${when(data.until)}` : "";
    const what = data.bot ? "it can read and listen, but not post, host, speak or react" : "you can listen and read, but not post, host, speak or react";
    return { icon: parleyIcon(), text: `${whose} was lifted, but it is still limited${until}: ${what}.`, detail: data.reason };
  },
  appeal_decided(data) {
    const yours = data.bot ? `Your appeal for your bot @${data.bot}` : "Your appeal";
    const decided = {
      overturned: `${yours} was accepted: the moderation decision was overturned.`,
      upheld: `${yours} was reviewed: the moderation decision stands.`,
    };
    return { icon: parleyIcon(), text: decided[data.decision] || `${yours} was decided.`, detail: data.reason };
  },
  // A bot answers to its owner: its notice is on the owner's Notices screen, to appeal there.
  bot_restricted(data) {
    const did = data.state === "suspended" ? "suspended" : "limited";
    const until = data.until ? ` until ${when(data.until)}` : "";
    return moderated(`A moderator ${did} your bot @${data.bot || "?"} under `, data, `${until}.`);
  },
};

// Whose thing it was: "yours" / "your space", or the owner's bot's.
function yours(data, thing = null) {
  const whose = data.bot ? `your bot @${data.bot}` : null;
  if (!thing) return whose || "yours";
  return whose ? `${whose}'s ${thing}` : `your ${thing}`;
}

// What a moderator did to this account or what it made, under which rule; the notice says why.
function moderated(what, data, after = ".") {
  return {
    icon: parleyIcon(),
    text: [what, h("code", {}, data.rule || "a rule"), after],
    detail: h("a", { href: "#/notices" }, "See why and appeal"),
  };
}

// A space a notification names, as a link to its page.
function spaceLink(data) {
  const title = data.title ? `“${data.title}”` : "A space";
  return data.space_id ? h("a", { href: `#/spaces/${encodeURIComponent(data.space_id)}` }, title) : title;
}

function hostIcon(data) {
  return data.host ? avatar(data.host, { size: "sm" }) : parleyIcon();
}

// A space moderation has taken down since (or whose host is suspended or gone): the server no
// longer says what it was, and neither does this.
function withheldSpace() {
  return { icon: parleyIcon(), text: "A space you were told about is no longer available." };
}

// Kinds this client does not know yet (a newer server) get a plain line rather than nothing.
function unknownKind() {
  return { icon: parleyIcon(), text: "You have a new notification." };
}

function parleyIcon() {
  return h("span", { class: "logo", "aria-hidden": "true" });
}

function item(notification) {
  const data = notification.data || {};
  const known = Object.hasOwn(KINDS, notification.kind) ? KINDS[notification.kind] : unknownKind;
  const describe = data.withheld ? withheldSpace : known;
  const { icon, text, detail } = describe(data);
  return h(
    "li",
    { class: `notification${notification.unread ? " unread" : ""}` },
    icon,
    h(
      "div",
      { class: "notification-body" },
      h("p", { class: "what" }, notification.unread ? h("span", { class: "visually-hidden" }, "Unread: ") : null, text),
      detail ? h("p", { class: "why" }, detail) : null,
      h("time", { datetime: notification.created_at, title: when(notification.created_at) }, ago(notification.created_at)),
    ),
    notification.unread ? h("span", { class: "unread-dot", "aria-hidden": "true" }) : null,
  );
}

export async function render(main) {
  const list = h("ul", { class: "notifications", "aria-label": "Notifications" });
  main.append(h("section", { class: "page narrow notifications-page", "aria-labelledby": "notifications-h" }, h("h1", { id: "notifications-h", tabindex: "-1" }, "Notifications"), h("p", { class: "lede" }, "Newest first. Opening this page marks them read, on every device you use."), list));
  let notifications;
  try {
    notifications = await get(`/me/notifications?limit=${LIMIT}`);
  } catch (error) {
    list.replaceChildren(h("li", { class: "error" }, error.message));
    return;
  }
  list.replaceChildren(...(notifications.length ? notifications.map(item) : [h("li", { class: "empty" }, EMPTY)]));
  let shown = notifications[0]?.id ?? 0;
  markSeen(notifications[0]);
  const addNew = async () => {
    const fresh = await get(`/me/notifications?limit=${LIMIT}`).catch(() => []);
    const added = fresh.filter((n) => n.id > shown);
    if (!added.length) return;
    shown = added[0].id;
    list.querySelector(".empty")?.remove();
    list.prepend(...added.map(item));
    markSeen(added[0]);
  };
  window.addEventListener(NEW_NOTIFICATIONS, addNew);
  return () => window.removeEventListener(NEW_NOTIFICATIONS, addNew);
}

// Newest first: when the newest is read, all are, and there is nothing to mark.
function markSeen(newest) {
  if (!newest?.unread) {
    setUnread(0);
    return;
  }
  post("/me/notifications/seen", { up_to: newest.id })
    .then(() => setUnread(0))
    .catch(() => {}); // still unread on the server: the badge keeps saying so
}
