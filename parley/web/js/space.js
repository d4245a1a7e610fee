// A space: a preview with a Join button, the scheduled page (Go live, Remind me), the notice of a
// space that is over, or the live room itself (space/room.js and the modules beside it: the stage,
// requests, audience, activity, your controls, the event socket and audio). What each role may do
// there comes from permissions.js, the server's table mirrored.
import { get, post, q } from "./api.js";
import { textNodes } from "./posts.js";
import { reminderControls } from "./reminder.js";
import { scheduleTools } from "./schedule-tools.js";
import { sharePostForm } from "./share-post.js";
import { hostLink, notice, renderOver } from "./space/common.js";
import { enterRoom } from "./space/room.js";
import { avatar, due, errorBox, h, onClick } from "./ui.js";

export async function render(main, [spaceId], app) {
  const session = app.session();
  const me = session.account;
  let space;
  try {
    space = await get(`/spaces/${q(spaceId)}`);
  } catch (error) {
    if (error.status === 410) main.append(notice("This space was removed", error.message));
    else main.append(notice("This space can't be found", error.status === 404 ? "It may have been deleted, or the link is wrong." : error.message));
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
  return renderPreview(main, space, app);
}

// Not in yet: a preview with a Join button. Returns what leaves the room, once joined.
function renderPreview(main, space, app) {
  const joinedKey = `parley.joined.${space.id}`;
  let leaveRoom = null;
  const box = errorBox();
  const join = h("button", { type: "button", class: "primary large" }, "Join");
  onClick(join, box, async () => {
    main.replaceChildren();
    sessionStorage.setItem(joinedKey, "1");
    leaveRoom = await enterRoom(main, space, app);
    main.querySelector("h1")?.focus();
  });
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

function renderScheduled(main, space, app) {
  const box = errorBox();
  const mine = space.host.id === app.session().account.id;
  const { button, badge } = mine ? goLive(space, app, box) : reminderControls(space, app, { large: true, box });
  main.append(
    h(
      "section",
      { class: "page narrow" },
      h("div", { class: "card" }, h("p", { class: "card-top" }, h("span", { class: "badge" }, due(space.scheduled_start, { starts: "Starts " })), badge), h("h1", { tabindex: "-1" }, textNodes(space.title_parts, space.title)), h("p", { class: "host" }, "Hosted by ", hostLink(space)), space.description ? h("p", {}, textNodes(space.description_parts, space.description)) : null, box, button, sharePostForm(() => space), mine ? scheduleTools(space, app) : null),
    ),
  );
}

// The host's "Go live": {button, badge} as reminderControls gives everyone else.
function goLive(space, app, box) {
  const button = h("button", { type: "button", class: "primary large" }, "Go live");
  onClick(button, box, async () => {
    await post(`/spaces/${q(space.id)}/start`);
    sessionStorage.setItem(`parley.joined.${space.id}`, "1");
    app.go(`/spaces/${space.id}`); // the same screen again, now live
  });
  return { button, badge: null };
}
