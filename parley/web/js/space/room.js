// The live room: one state object (`room`) that every part of the screen reads, the layout, the
// event socket and live audio (connect.js), and what happens when you go elsewhere in the app.
import { post, q, whenLimited } from "../api.js";
import { notice, renderOver } from "./common.js";
import { connect } from "./connect.js";
import { draw } from "./draw.js";
import { shutdown } from "./exits.js";
import { buildLayout } from "./layout.js";
import { followLockScreen } from "./lock-screen.js";

// Everything the room's modules share. `space` and `active` are replaced as events arrive;
// `people` (account_id -> participant) is one Map for the room's life (window.parleyRoom keeps it).
function createRoom(main, initial, app) {
  const session = app.session();
  const me = session.account;
  // Display names of people on stage (at most 13), fetched once each; handles until then.
  const names = new Map([[me.handle, me.display_name]]);
  if (initial.host.handle) names.set(initial.host.handle, initial.host.display_name);
  const room = {
    main,
    app,
    session,
    me,
    spaceId: initial.id,
    joinedKey: `parley.joined.${initial.id}`,
    space: { ...initial },
    people: new Map(),
    active: new Set(),
    names,
    // The Automated labels of bots learnt from their profiles, by handle (stage.js).
    bots: new Map(),
    asked: new Set(names.keys()),
    leaving: false,
    over: false,
    rejoining: false,
    rejoins: [], // times of recent rejoins, to stop trying on a connection that keeps failing
    feed: null,
    audio: null,
    lockScreen: null, // what the device's media controls were last set for (lock-screen.js)
    limited: false, // the account may listen only (GET /me, or a refusal saying so)
    view: null, // the elements of the layout
    path: (rest = "") => `/spaces/${q(initial.id)}${rest}`,
    mine: () => room.people.get(me.id),
    myRole: () => room.mine()?.role || "listener",
    draw: () => draw(room),
  };
  return room;
}

// Joins on the server; on refusal, says why in place of the room and returns false.
async function join(room) {
  try {
    room.people.set(room.me.id, await post(room.path("/join")));
    return true;
  } catch (error) {
    const { main } = room;
    sessionStorage.removeItem(room.joinedKey);
    if (error.code === "removed_from_space") main.replaceChildren(notice("You were removed from this space", "A host removed you; you can't rejoin this space."));
    else if (error.code === "blocked_by_host") main.replaceChildren(notice("You can't join this space", "The host has blocked you."));
    else if (error.code === "space_not_live") renderOver(main, room.space, { reread: true });
    else main.replaceChildren(notice("You couldn't join", error.message));
    return false;
  }
}

// Whether the account is limited: read alongside the room's opening, not before it.
function learnIfLimited(room) {
  whenLimited(() => {
    if (room.over) return;
    room.limited = true;
    room.draw();
  });
}

export async function enterRoom(main, initial, app) {
  const room = createRoom(main, initial, app);
  if (!(await join(room))) return () => {};
  // Another screen took this one's place while we joined (the same space entered twice, from
  // two clicks): that one has the room; this one opens nothing, so no second socket or audio.
  if (!main.isConnected) return () => {};
  room.view = buildLayout(room);
  learnIfLimited(room);
  connect(room);
  followLockScreen(room);
  window.parleyRoom = {
    get audio() {
      return room.audio;
    },
    get feed() {
      return room.feed;
    },
    people: room.people,
    get space() {
      return room.space;
    },
  };
  room.draw();
  return () => leaveOnNavigation(room);
}

// Going elsewhere in the app leaves the space (there is no player that follows you around);
// a host stays, and the space waits for them as it does after a drop. A reload keeps you in.
function leaveOnNavigation(room) {
  if (room.over) return;
  // Closed for good: nothing the room still has on its way (a leave's answer, a late event) may
  // draw over the page now shown.
  room.over = true;
  const host = room.myRole() === "host";
  shutdown(room);
  if (!host) {
    room.leaving = true;
    sessionStorage.removeItem(room.joinedKey);
    post(room.path("/leave")).catch(() => {});
  }
}
