// The space view: the stage with speaking rings, mics, listeners, hands, the host's queue and
// controls, reactions, and live audio. Events come from one socket (events.js) that resumes with
// `since=` after a drop; audio follows our role through media.js's liveAudio.
import { ApiError, api, del, get, post, q, saveSession } from "./api.js";
import { spaceEvents } from "./events.js";
import { liveAudio } from "./media.js";
import { showText, textNodes } from "./posts.js";
import { announce, avatar, busy, errorBox, h, plural, when } from "./ui.js";

const REACTIONS = [
  ["👏", "Applause"],
  ["😂", "Laughing"],
  ["❤️", "Love"],
  ["💯", "Hundred"],
  ["🔥", "Fire"],
  ["🙏", "Thanks"],
  ["🎉", "Celebrate"],
  ["🤔", "Thinking"],
];
const STAGE = new Set(["host", "cohost", "speaker"]);
const ROLE_NAMES = { host: "Host", cohost: "Cohost", speaker: "Speaker", listener: "Listener" };
const ACTIVITY_LIMIT = 60;

// Why a space's socket closed with 4401 (its reason), in words.
const SIGNED_OUT_BECAUSE = {
  session_revoked: "Your session ended: you signed out, changed your password or signed out everywhere, on this device or another.",
  session_expired: "Your session expired. Sign in again to come back.",
  account_suspended: "Your account was suspended. Signing in again tells you why and how to appeal.",
  invalid_token: "Your session is no longer valid. Sign in again to come back.",
};

export async function render(main, [spaceId], app) {
  const session = app.session();
  const me = session.account;
  let space;
  try {
    space = await get(`/spaces/${q(spaceId)}`);
  } catch (error) {
    main.append(notice("This space can't be found", error.status === 404 ? "It may have been deleted, or the link is wrong." : error.message));
    return;
  }
  app.titled(space.title);
  const joinedKey = `parley.joined.${spaceId}`;

  if (space.state === "scheduled") return renderScheduled(main, space, app);
  if (space.state !== "live") return renderOver(main, space);

  const onStage = (space.stage || []).some((p) => p.account_id === me.id);
  if (sessionStorage.getItem(joinedKey) || space.host.id === me.id || onStage) {
    return enterRoom(main, space, app);
  }
  // Not in yet: a preview with a Join button.
  let leaveRoom = null;
  const box = errorBox();
  const join = h("button", { type: "button", class: "primary large" }, "Join");
  join.addEventListener("click", () =>
    busy(
      join,
      async () => {
        main.replaceChildren();
        sessionStorage.setItem(joinedKey, "1");
        leaveRoom = await enterRoom(main, space, app);
        main.querySelector("h1")?.focus();
      },
      box,
    ),
  );
  main.append(
    h(
      "section",
      { class: "page narrow", "aria-labelledby": "preview-title" },
      h(
        "div",
        { class: "card preview" },
        h("p", {}, h("span", { class: "badge live" }, "Live")),
        h("h1", { id: "preview-title", tabindex: "-1" }, textNodes(space.title_parts, space.title)),
        h("p", { class: "host" }, "Hosted by ", hostLink(space)),
        space.description ? h("p", {}, textNodes(space.description_parts, space.description)) : null,
        h("ul", { class: "stage compact", "aria-label": "stage" }, (space.stage || []).map((p) => h("li", {}, avatar(p.handle), h("span", {}, `@${p.handle}`)))),
        h("p", { class: "meta" }, h("span", { class: "count", role: "status", "aria-live": "off", "aria-label": "listeners" }, String(space.listener_count)), " listening"),
        box,
        join,
      ),
    ),
  );
  return () => leaveRoom?.();
}

function micIcon(off) {
  const icon = h("span", { class: "mic-icon", "aria-hidden": "true" });
  icon.innerHTML = `<svg viewBox="0 0 24 24" width="14" height="14" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>${off ? '<path d="M4 4l16 16"/>' : ""}</svg>`;
  return icon;
}

function hostLink(space) {
  const name = space.host.display_name || space.host.handle || "someone";
  return space.host.handle ? h("a", { href: `#/u/${space.host.handle}` }, name) : name;
}

function notice(title, text, ...more) {
  return h("section", { class: "page narrow" }, h("div", { class: "card center" }, h("h1", { tabindex: "-1" }, title), h("p", { class: "lede" }, text), ...more, h("p", {}, h("a", { href: "#/", class: "button secondary" }, "Back to home"))));
}

function renderOver(main, space) {
  main.replaceChildren(
    notice(
      "This space has ended",
      `“${space.title}”, hosted by ${space.host.display_name || space.host.handle || "someone"}, is over.`,
      space.recording && space.state === "ended" ? h("p", {}, h("a", { href: `/api/v1/spaces/${space.id}/recording` }, "Listen to the recording")) : null,
    ),
  );
}

function renderScheduled(main, space, app) {
  const me = app.session().account;
  const box = errorBox();
  let action;
  if (space.host.id === me.id) {
    action = h("button", { type: "button", class: "primary large" }, "Go live");
    action.addEventListener("click", () =>
      busy(
        action,
        async () => {
          await post(`/spaces/${q(space.id)}/start`);
          sessionStorage.setItem(`parley.joined.${space.id}`, "1");
          app.go(`/spaces/${space.id}`); // the same screen again, now live
        },
        box,
      ),
    );
  } else {
    action = h("button", { type: "button", class: "secondary large" }, "Remind me");
    action.addEventListener("click", () =>
      busy(
        action,
        async () => {
          await post(`/spaces/${q(space.id)}/reminders`);
          action.textContent = "Reminder set";
          action.disabled = true;
          announce("We'll tell you when it goes live");
        },
        box,
      ),
    );
  }
  main.append(
    h(
      "section",
      { class: "page narrow" },
      h("div", { class: "card" }, h("p", {}, h("span", { class: "badge" }, `Starts ${when(space.scheduled_start)}`)), h("h1", { tabindex: "-1" }, textNodes(space.title_parts, space.title)), h("p", { class: "host" }, "Hosted by ", hostLink(space)), space.description ? h("p", {}, textNodes(space.description_parts, space.description)) : null, box, action),
    ),
  );
}

// --- the room -------------------------------------------------------------------------------

async function enterRoom(main, initial, app) {
  const session = app.session();
  const me = session.account;
  const spaceId = initial.id;
  const joinedKey = `parley.joined.${spaceId}`;
  let space = { ...initial };
  const people = new Map(); // account_id -> participant
  let active = new Set();
  let leaving = false;
  let over = false;
  let feed = null;
  let audio = null;
  let rejoining = false;
  let rejoins = []; // times of recent rejoins, to stop trying on a connection that keeps failing

  try {
    const mine = await post(`/spaces/${q(spaceId)}/join`);
    people.set(me.id, mine);
  } catch (error) {
    sessionStorage.removeItem(joinedKey);
    if (error.code === "removed_from_space") main.replaceChildren(notice("You were removed from this space", "A host removed you; you can't rejoin this space."));
    else if (error.code === "blocked_by_host") main.replaceChildren(notice("You can't join this space", "The host has blocked you."));
    else if (error.code === "space_not_live") renderOver(main, space);
    else main.replaceChildren(notice("You couldn't join", error.message));
    return () => {};
  }

  // --- layout ---
  const title = h("h1", { id: "room-title", tabindex: "-1" });
  const listenerCount = h("span", { class: "count", role: "status", "aria-live": "off", "aria-label": "listeners" }, String(space.listener_count));
  const connection = h("span", { class: "conn", role: "status" }, "Connecting…");
  const hostAway = h("p", { class: "banner warn", role: "status", hidden: true }, "The host stepped away. The space waits a little for them to come back.");
  const topics = h("ul", { class: "topics", "aria-label": "Topics" });
  const description = h("p", { class: "description" });
  const editTitle = titleEditor();
  const stageList = h("ul", { class: "stage", "aria-label": "stage" });
  const requestsList = h("ul", { class: "people", "aria-label": "Requests" });
  const requestsSection = h("section", { class: "panel", "aria-labelledby": "requests-h", hidden: true }, h("h2", { id: "requests-h" }, "Requests to speak ", h("span", { class: "pill-count" })), requestsList);
  const audienceList = h("ul", { class: "people", "aria-label": "Audience" });
  const activity = h("ol", { class: "activity-list" });
  const activityLog = h("div", { class: "activity", role: "log", "aria-label": "Activity", "aria-live": "polite", tabindex: "0" }, activity);
  const invitation = h("section", { class: "invitation", "aria-labelledby": "invite-h", hidden: true });
  const controls = h("div", { class: "controls-row" });
  const floats = h("div", { class: "floats", "aria-hidden": "true" });
  const player = h("audio", { autoplay: true, class: "visually-hidden", "aria-hidden": "true" });
  const soundButton = h("button", { type: "button", class: "secondary small", hidden: true }, "Turn on sound");
  soundButton.addEventListener("click", () => player.play().then(() => (soundButton.hidden = true)).catch(() => {}));

  main.append(
    h(
      "div",
      { class: "room" },
      h(
        "section",
        { class: "room-head", "aria-labelledby": "room-title" },
        h("div", { class: "room-meta" }, h("span", { class: "badge live" }, "Live"), space.recording ? h("span", { class: "badge rec" }, "● Recording") : null, connection),
        title,
        h("p", { class: "host" }, "Hosted by ", hostLink(space), " · ", listenerCount, " listening"),
        description,
        topics,
        editTitle,
        hostAway,
        soundButton,
      ),
      invitation,
      h(
        "div",
        { class: "room-body" },
        h("section", { class: "panel stage-panel", "aria-labelledby": "stage-h" }, h("h2", { id: "stage-h" }, "On stage"), stageList),
        h("div", { class: "side" }, requestsSection, h("section", { class: "panel", "aria-labelledby": "audience-h" }, h("h2", { id: "audience-h" }, "Audience"), audienceList), h("section", { class: "panel", "aria-labelledby": "activity-h" }, h("h2", { id: "activity-h" }, "Activity"), activityLog)),
      ),
      h("section", { class: "controls", "aria-label": "Your controls" }, controls),
      floats,
      player,
    ),
  );

  // --- helpers ---
  const mine = () => people.get(me.id);
  const myRole = () => mine()?.role || "listener";
  const nameOf = (p) => `@${p.handle}`;

  function log(text) {
    const item = h("li", {}, h("time", { datetime: new Date().toISOString() }, new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })), " ", text);
    activity.prepend(item);
    while (activity.children.length > ACTIVITY_LIMIT) activity.lastChild.remove();
  }

  function act(button, work, done) {
    return busy(button, async () => {
      await work();
      if (done) announce(done);
    });
  }

  function titleEditor() {
    const input = h("input", { id: "new-title", name: "title", maxlength: 100, autocomplete: "off" });
    const box = errorBox();
    const form = h("form", { class: "inline-form" }, h("label", { for: "new-title" }, "New title"), input, h("button", { type: "submit", class: "secondary small" }, "Save title"), box);
    const summary = h("summary", {}, "Edit title");
    const details = h("details", { class: "edit-title", hidden: true }, summary, form);
    // Filled in as it opens (the toggle event comes later, after someone may have typed).
    summary.addEventListener("click", () => {
      if (!details.open) input.value = space.title;
    });
    details.addEventListener("toggle", () => {
      if (details.open && document.activeElement !== input) input.focus();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(
        form.querySelector("button"),
        async () => {
          await api("PATCH", `/spaces/${q(spaceId)}`, { title: input.value.trim() });
          details.open = false;
          announce("Title changed");
        },
        box,
      );
    });
    return details;
  }

  // --- rendering, keyed so focus survives updates ---
  // Redraws replace only what changed, but a control can vanish under keyboard focus (an
  // approved request leaves the queue): focus then moves to the heading of its section.
  function remember() {
    const el = document.activeElement;
    if (!el || !main.contains(el) || !el.dataset.key) return null;
    return { key: el.dataset.key, section: el.closest("section") };
  }
  function restore(saved) {
    if (!saved) return;
    const el = main.querySelector(`[data-key="${CSS.escape(saved.key)}"]`);
    if (el) {
      if (document.activeElement !== el) el.focus();
      return;
    }
    if (main.contains(document.activeElement) && document.activeElement !== document.body) return;
    const heading = saved.section?.isConnected ? saved.section.querySelector("h2") : null;
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  function button(label, key, onclick, cls = "small secondary", extra = {}) {
    const b = h("button", { type: "button", class: cls, "data-key": key, ...extra }, label);
    b.addEventListener("click", () => onclick(b));
    return b;
  }

  function canMute(viewer, target) {
    return viewer === "host" || (viewer === "cohost" && target !== "host");
  }
  function canMoveOrRemove(viewer, target) {
    return viewer === "host" ? target !== "host" : viewer === "cohost" && (target === "speaker" || target === "listener");
  }

  function stageItem(p) {
    const viewer = myRole();
    const isMe = p.account_id === me.id;
    const nameId = `who-${p.account_id}`;
    const tools = [];
    if (!isMe && STAGE.has(viewer) && viewer !== "speaker") {
      if (!p.muted && canMute(viewer, p.role)) tools.push(button("Mute", `mute:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/mute/${q(p.handle)}`), `Muted ${nameOf(p)}`), "small secondary", { "aria-describedby": nameId }));
      if (viewer === "host" && p.role === "speaker") tools.push(button("Make cohost", `cohost:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/cohosts/${q(p.handle)}`), `${nameOf(p)} is now a cohost`), "small secondary", { "aria-describedby": nameId }));
      if (viewer === "host" && p.role === "cohost") tools.push(button("Demote to speaker", `uncohost:${p.handle}`, (b) => act(b, () => del(`/spaces/${q(spaceId)}/cohosts/${q(p.handle)}`)), "small secondary", { "aria-describedby": nameId }));
      if (canMoveOrRemove(viewer, p.role)) {
        tools.push(button("Move to audience", `audience:${p.handle}`, (b) => act(b, () => del(`/spaces/${q(spaceId)}/speakers/${q(p.handle)}`), `${nameOf(p)} moved to the audience`), "small secondary", { "aria-describedby": nameId }));
        tools.push(button("Remove", `remove:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/remove/${q(p.handle)}`), `Removed ${nameOf(p)}`), "small danger", { "aria-describedby": nameId }));
      }
    }
    const speaking = active.has(p.account_id) && !p.muted;
    return h(
      "li",
      { class: `member${speaking ? " is-speaking" : ""}${isMe ? " me" : ""}`, "data-id": p.account_id },
      h("span", { class: "ring" }, avatar(names.get(p.handle) || p.handle, { size: "lg" })),
      h(
        "span",
        { class: "who", id: nameId },
        h("span", {}, h("strong", {}, names.get(p.handle) || nameOf(p)), isMe ? h("span", { class: "you" }, " (you)") : null),
        names.get(p.handle) ? h("span", { class: "handle" }, nameOf(p)) : null,
      ),
      h("span", { class: `role role-${p.role}` }, ROLE_NAMES[p.role]),
      h("span", { class: `mic ${p.muted ? "off" : "on"}` }, micIcon(p.muted), p.muted ? "Muted" : "Mic on"),
      h("span", { class: "speaking-label visually-hidden" }, speaking ? "Speaking" : ""),
      tools.length ? h("div", { class: "tools" }, tools) : null,
    );
  }

  function personItem(p, kind) {
    const viewer = myRole();
    const isMe = p.account_id === me.id;
    const nameId = `${kind}-${p.account_id}`;
    const tools = [];
    const moderator = viewer === "host" || viewer === "cohost";
    if (kind === "request" && moderator) {
      tools.push(button("Approve", `approve:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/speakers/${q(p.handle)}`), `${nameOf(p)} is on stage`), "small primary", { "aria-describedby": nameId }));
      tools.push(button("Deny", `deny:${p.handle}`, (b) => act(b, () => del(`/spaces/${q(spaceId)}/speakers/${q(p.handle)}`), `Declined ${nameOf(p)}'s request`), "small secondary", { "aria-describedby": nameId }));
    }
    if (kind === "audience" && moderator && !isMe) {
      if (p.invited) tools.push(h("span", { class: "tag" }, "Invited"));
      else if (!p.hand_raised) tools.push(button("Invite to speak", `invite:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/speakers/${q(p.handle)}`), `Invited ${nameOf(p)} to speak`), "small secondary", { "aria-describedby": nameId }));
      tools.push(button("Remove", `remove:${p.handle}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/remove/${q(p.handle)}`), `Removed ${nameOf(p)}`), "small danger", { "aria-describedby": nameId }));
    }
    return h(
      "li",
      { class: "person", "data-id": p.account_id },
      avatar(p.handle, { size: "sm" }),
      h("span", { class: "who", id: nameId }, nameOf(p), isMe ? h("span", { class: "you" }, " (you)") : null, p.hand_raised ? h("span", { class: "hand", title: "Hand raised" }, " ✋", h("span", { class: "visually-hidden" }, "hand raised")) : null),
      tools.length ? h("div", { class: "tools" }, tools) : null,
    );
  }

  // Replaces the children of `list` with `items` ([key, signature, build]), rebuilding only
  // what changed.
  function reconcile(list, items, empty) {
    const existing = new Map([...list.children].map((el) => [el.dataset.rkey, el]));
    const next = [];
    for (const [key, signature, build] of items) {
      let el = existing.get(key);
      if (!el || el.dataset.sig !== signature) {
        el = build();
        el.dataset.rkey = key;
        el.dataset.sig = signature;
      }
      next.push(el);
    }
    if (!items.length && empty) {
      const placeholder = existing.get("empty") || h("li", { class: "empty", "data-rkey": "empty" }, empty);
      next.push(placeholder);
    }
    const same = next.length === list.children.length && next.every((el, i) => list.children[i] === el);
    if (!same) list.replaceChildren(...next);
  }

  // Display names of people on stage (at most 13), fetched once each; handles until then.
  const names = new Map([[me.handle, me.display_name]]);
  if (space.host.handle) names.set(space.host.handle, space.host.display_name);
  const asked = new Set(names.keys());
  function learnName(handle) {
    if (asked.has(handle)) return;
    asked.add(handle);
    get(`/accounts/${q(handle)}`)
      .then((profile) => {
        names.set(handle, profile.display_name);
        draw();
      })
      .catch(() => {});
  }

  const ORDER = { host: 0, cohost: 1, speaker: 2, listener: 3 };
  function draw() {
    const focusKey = remember();
    const viewer = myRole();
    // Redrawn only when they change, so a link in them keeps focus through other events.
    const texts = JSON.stringify([space.title, space.title_parts, space.description, space.description_parts]);
    if (title.dataset.shown !== texts) {
      title.dataset.shown = texts;
      showText(title, space.title_parts, space.title);
      showText(description, space.description_parts, space.description || "");
    }
    document.title = `${space.title} · Parley`;
    listenerCount.textContent = String(space.listener_count);
    description.hidden = !space.description;
    topics.replaceChildren(...(space.topics || []).map((t) => h("li", {}, t)));
    topics.hidden = !(space.topics || []).length;
    editTitle.hidden = !(viewer === "host" || viewer === "cohost");
    hostAway.hidden = space.host_present !== false;
    const all = [...people.values()];
    const stage = all.filter((p) => STAGE.has(p.role)).sort((a, b) => ORDER[a.role] - ORDER[b.role] || a.handle.localeCompare(b.handle));
    const audience = all.filter((p) => p.role === "listener").sort((a, b) => a.handle.localeCompare(b.handle));
    const requests = audience.filter((p) => p.hand_raised);
    reconcile(
      stageList,
      stage.map((p) => {
        learnName(p.handle);
        return [p.account_id, [viewer, p.role, p.muted, active.has(p.account_id), names.get(p.handle)].join("|"), () => stageItem(p)];
      }),
      "Nobody on stage yet",
    );
    const moderator = viewer === "host" || viewer === "cohost";
    requestsSection.hidden = !moderator;
    requestsSection.querySelector(".pill-count").textContent = requests.length ? String(requests.length) : "";
    reconcile(requestsList, requests.map((p) => [p.account_id, "r", () => personItem(p, "request")]), "No requests right now");
    reconcile(
      audienceList,
      audience.map((p) => [p.account_id, [viewer, p.hand_raised, p.invited].join("|"), () => personItem(p, "audience")]),
      "No listeners yet",
    );
    drawInvitation();
    drawControls();
    restore(focusKey);
  }

  function drawInvitation() {
    const p = mine();
    const show = !!p && p.role === "listener" && p.invited;
    if (show === !invitation.hidden) return;
    invitation.hidden = !show;
    if (!show) return invitation.replaceChildren();
    const accept = button("Accept", "invite:accept", (b) => act(b, () => post(`/spaces/${q(spaceId)}/invitation/accept`), "You're on stage. You start muted."), "primary");
    const decline = button("Decline", "invite:decline", (b) => act(b, () => post(`/spaces/${q(spaceId)}/invitation/decline`), "Invitation declined"), "secondary");
    invitation.replaceChildren(h("h2", { id: "invite-h" }, "You're invited to speak"), h("p", {}, "The hosts would like you on stage. You'll join muted and can unmute when ready."), h("div", { class: "actions" }, accept, decline));
    announce("You're invited to speak. Accept or decline.", { assertive: true });
  }

  function drawControls() {
    const p = mine();
    const role = myRole();
    const signature = [role, p?.muted, p?.hand_raised, p?.invited].join("|");
    if (controls.dataset.sig === signature) return;
    controls.dataset.sig = signature;
    const focusKey = remember();
    const parts = [];
    if (STAGE.has(role)) {
      parts.push(
        p.muted
          ? button("Unmute", "mic", (b) => act(b, () => post(`/spaces/${q(spaceId)}/unmute`), "Your mic is on"), "primary mic-button")
          : button("Mute", "mic", (b) => act(b, () => post(`/spaces/${q(spaceId)}/mute/${q(me.handle)}`), "Your mic is off"), "secondary mic-button"),
      );
      if (role !== "host") parts.push(button("Leave the stage", "unstage", (b) => act(b, () => del(`/spaces/${q(spaceId)}/speakers/${q(me.handle)}`), "You're back in the audience")));
    } else if (p?.hand_raised) {
      parts.push(button("Cancel request", "hand", (b) => act(b, () => del(`/spaces/${q(spaceId)}/hand`), "Request withdrawn"), "secondary"));
    } else if (!p?.invited) {
      parts.push(button("Request to speak", "hand", (b) => act(b, () => post(`/spaces/${q(spaceId)}/hand`), "Request sent. The hosts will see your raised hand."), "primary"));
    }
    if (role === "speaker" || role === "listener") {
      parts.push(
        h(
          "div",
          { class: "reactions", role: "group", "aria-label": "Reactions" },
          REACTIONS.map(([emoji, label]) => button(emoji, `react:${emoji}`, (b) => act(b, () => post(`/spaces/${q(spaceId)}/reactions`, { emoji })), "reaction", { "aria-label": `React ${emoji}`, title: label })),
        ),
      );
    }
    const spacer = h("span", { class: "spacer" });
    parts.push(spacer, button("Leave", "leave", (b) => busy(b, leave), "ghost"));
    if (role === "host") parts.push(button("End space", "end", (b) => busy(b, endSpace), "danger"));
    controls.replaceChildren(...parts);
    restore(focusKey);
  }

  function float(emoji, who) {
    const bubble = h("span", { class: "reaction-float", style: `--x: ${10 + Math.random() * 80}%`, "data-emoji": emoji, title: who }, emoji);
    floats.append(bubble);
    setTimeout(() => bubble.remove(), 4000);
  }

  // --- events ---
  function apply(message) {
    audio?.handle(message);
    const { type } = message;
    const data = message.data || {};
    if (type === "snapshot") return applySnapshot(data);
    if (type === "error") return;
    if (typeof data.listener_count === "number") space.listener_count = data.listener_count;
    const id = data.account_id;
    const p = id ? people.get(id) : null;
    const self = id === me.id;
    switch (type) {
      case "participant_joined":
        people.set(id, { ...(p || {}), account_id: id, handle: data.handle, role: data.role, muted: data.muted ?? true, hand_raised: false, invited: false, present: true });
        if (!self) log(`${nameOf(data)} joined`);
        break;
      case "participant_left":
        people.delete(id);
        if (self) return droppedOut(data.reason);
        log(`${nameOf(data)} left`);
        break;
      case "participant_removed":
        people.delete(id);
        if (self) return removed();
        log(`${nameOf(data)} was removed`);
        break;
      case "role_changed":
        if (p) Object.assign(p, { role: data.role, muted: data.muted ?? true, hand_raised: false, invited: false });
        else people.set(id, { account_id: id, handle: data.handle, role: data.role, muted: data.muted ?? true, hand_raised: false, invited: false, present: true });
        if (self) announce(STAGE.has(data.role) ? `You're ${data.role === "speaker" ? "a speaker" : `the ${data.role}`} now${data.muted ? ". You're muted" : ""}.` : "You're in the audience now.");
        log(STAGE.has(data.role) ? `${nameOf(data)} is now ${data.role === "speaker" ? "a speaker" : `a ${data.role}`}` : `${nameOf(data)} moved to the audience`);
        break;
      case "mic_changed":
        if (p) p.muted = data.muted;
        if (self && data.muted && data.by && data.by !== me.id) announce("A host muted you", { assertive: true });
        break;
      case "hand_changed":
        if (p) p.hand_raised = data.raised;
        if (self && !data.raised && data.denied_by) announce("Your request to speak was declined");
        if (!self && data.raised && ["host", "cohost"].includes(myRole())) {
          log(`${nameOf(data)} asked to speak`);
          announce(`${nameOf(data)} asked to speak`, { toast: true });
        }
        break;
      case "speaker_invited":
        if (p) p.invited = true;
        if (!self) log(`${nameOf(data)} was invited to speak`);
        break;
      case "invitation_declined":
        if (p) p.invited = false;
        if (!self && !data.withdrawn_by) log(`${nameOf(data)} declined to speak`);
        break;
      case "reaction":
        float(data.emoji, nameOf(data));
        log(`${nameOf(data)} reacted ${data.emoji}`);
        break;
      case "active_speakers":
        active = new Set(data.account_ids || []);
        for (const li of stageList.children) {
          const person = people.get(li.dataset.id);
          const speaking = !!person && active.has(li.dataset.id) && !person.muted;
          li.classList.toggle("is-speaking", speaking);
          const label = li.querySelector(".speaking-label");
          if (label) label.textContent = speaking ? "Speaking" : "";
          li.dataset.sig = [myRole(), person?.role, person?.muted, active.has(li.dataset.id), names.get(person?.handle)].join("|");
        }
        return; // no full redraw: these come up to five times a second
      case "space_updated":
        for (const key of ["title", "description", "topics"]) if (key in data) space[key] = data[key];
        if ("title" in data) log(`Title changed to “${data.title}”`);
        if ("title" in data || "description" in data) {
          // The event carries plain text; the links in it come from the server's view.
          space.title_parts = space.description_parts = null;
          get(`/spaces/${q(space.id)}`)
            .then((fresh) => {
              if (fresh.title !== space.title || fresh.description !== space.description) return;
              space.title_parts = fresh.title_parts;
              space.description_parts = fresh.description_parts;
              draw();
            })
            .catch(() => {});
        }
        break;
      case "space_ended":
      case "space_cancelled":
        return ended();
      case "host_absent":
        space.host_present = false;
        log("The host stepped away");
        break;
      case "host_returned":
        space.host_present = true;
        log("The host is back");
        break;
      case "host_changed":
        log(`${nameOf(data)} is the host now`);
        refreshView();
        break;
      default:
        break;
    }
    draw();
  }

  async function applySnapshot(view) {
    space = { ...space, ...view };
    if (space.state !== "live") return ended();
    const kept = new Map();
    for (const p of view.stage || []) kept.set(p.account_id, { ...p });
    people.clear();
    for (const [k, v] of kept) people.set(k, v);
    draw();
    try {
      const listeners = await get(`/spaces/${q(spaceId)}/listeners?limit=500`);
      for (const p of listeners) if (!people.has(p.account_id) && p.present !== false) people.set(p.account_id, { ...p });
      draw();
    } catch {
      // the audience list fills in from events
    }
  }

  async function refreshView() {
    try {
      const view = await get(`/spaces/${q(spaceId)}`);
      space = { ...space, ...view };
      for (const p of view.stage || []) people.set(p.account_id, { ...people.get(p.account_id), ...p });
      for (const p of people.values()) if (STAGE.has(p.role) && !view.stage.some((s) => s.account_id === p.account_id)) p.role = "listener";
      draw();
    } catch {
      // next event tries again
    }
  }

  // The server let us go (the network was gone longer than it waits): join again, and
  // reconnect the audio, unless we meant to leave.
  // The server sees a participant whose sockets are gone for a while as having left. After a
  // network drop that is what we hear first when the socket resumes; the socket already joined
  // again before it opened (beforeResume), and the replay goes on with our return. When it does
  // not (we were dropped while connected), join again and reopen the socket so it counts.
  async function droppedOut(reason) {
    draw();
    if (leaving || over || rejoining) return;
    rejoining = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (over || leaving) return;
      if (!people.has(me.id)) {
        rejoins = rejoins.filter((t) => Date.now() - t < 60_000);
        if (rejoins.length >= 5) {
          announce("You keep dropping out of this space. Check your connection, then reload.", { assertive: true });
          return;
        }
        rejoins.push(Date.now());
        const mine = await post(`/spaces/${q(spaceId)}/join`);
        people.set(me.id, mine);
        feed?.reconnect();
      }
      log("Back after a connection drop");
      audio?.reconnect();
      draw();
    } catch (error) {
      if (error instanceof ApiError && error.code === "space_not_live") ended();
      else announce(`You left the space (${reason || "disconnected"}): ${error.message}`, { assertive: true });
    } finally {
      rejoining = false;
    }
  }

  function shutdown() {
    feed?.close();
    audio?.close();
    feed = null;
    audio = null;
    delete window.parleyRoom;
  }

  function ended() {
    if (over) return;
    over = true;
    shutdown();
    sessionStorage.removeItem(joinedKey);
    announce("The space has ended");
    renderOver(main, { ...space, state: "ended" });
    main.querySelector("h1")?.focus();
  }

  function removed() {
    if (over) return;
    over = true;
    shutdown();
    sessionStorage.removeItem(joinedKey);
    announce("You were removed from this space", { assertive: true });
    main.replaceChildren(notice("You were removed from this space", "A host removed you from this space, and you can't rejoin it. Other spaces are still open to you."));
    main.querySelector("h1")?.focus();
  }

  // The server closed the socket because the session is over: say why, and forget it here.
  function signedOut(reason) {
    if (over) return;
    over = true;
    shutdown();
    saveSession(null);
    const why = SIGNED_OUT_BECAUSE[reason] || SIGNED_OUT_BECAUSE.session_revoked;
    announce(why, { assertive: true });
    main.replaceChildren(notice("You were signed out", why, h("p", {}, h("a", { href: "#/signin" }, "Sign in"))));
    main.querySelector("h1")?.focus();
  }

  async function leave() {
    leaving = true;
    try {
      await post(`/spaces/${q(spaceId)}/leave`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status >= 500) throw error;
    }
    over = true;
    shutdown();
    sessionStorage.removeItem(joinedKey);
    announce("You left the space");
    app.go("/");
  }

  async function endSpace() {
    await post(`/spaces/${q(spaceId)}/end`);
    ended();
  }

  // --- connect ---
  const CONNECTION_TEXT = { connecting: "Connecting…", live: "Connected", reconnecting: "Reconnecting…", offline: "Offline: waiting for the network" };
  feed = spaceEvents({
    spaceId,
    token: session.token,
    onMessage: apply,
    onStatus(status) {
      connection.textContent = CONNECTION_TEXT[status] || status;
      connection.dataset.state = status;
      if (status === "live" && audio?.connection && ["failed", "disconnected", "closed"].includes(audio.connection.pc.connectionState)) audio.reconnect();
    },
    async beforeResume() {
      if (leaving || over) return;
      const mine = await post(`/spaces/${q(spaceId)}/join`); // nothing happens if still in
      people.set(me.id, mine);
    },
    onFinal(code, reason) {
      if (code === 4002) ended();
      else if (code === 4003) removed();
      else if (code === 4401) signedOut(reason);
      else if (code === 4429) {
        over = true;
        shutdown();
        main.replaceChildren(notice("Too many open spaces", "Your account has too many spaces open at once. Close some tabs or windows, then reload this one."));
        main.querySelector("h1")?.focus();
      } else ended();
    },
  });
  audio = liveAudio({
    spaceId,
    token: session.token,
    accountId: me.id,
    audio: player,
    socket: false,
    onChange({ connection: c }) {
      c.audio
        .play()
        .then(() => (soundButton.hidden = true))
        .catch(() => setTimeout(() => (soundButton.hidden = !player.paused || over), 1000));
    },
    onError(error) {
      if (error?.status === 403 || error?.status === 409) return; // not (or no longer) in the space: events decide
      console.warn("parley media:", error);
    },
  });
  window.parleyRoom = { get audio() { return audio; }, get feed() { return feed; }, people, get space() { return space; } };
  draw();

  // Going elsewhere in the app leaves the space (there is no player that follows you around);
  // a host stays, and the space waits for them as it does after a drop. A reload keeps you in.
  return () => {
    if (over) return;
    const host = myRole() === "host";
    shutdown();
    if (!host) {
      leaving = true;
      sessionStorage.removeItem(joinedKey);
      post(`/spaces/${q(spaceId)}/leave`).catch(() => {});
    }
  };
}
