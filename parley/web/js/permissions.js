// Who may do what in a space: the server's table (parley/core/spaces/permissions.py), mirrored so
// the page offers exactly the controls the server will accept. The server still decides; this
// only keeps buttons that would be refused off the screen. tests/unit/test_permissions_mirror.py
// runs `may` over every case and compares it with the server's `authorize`, so the two cannot
// drift apart: change both together.

export const ROLES = Object.freeze(["host", "cohost", "speaker", "listener"]);

const ANY = "any"; // on any participant
const SELF = "self"; // only on oneself
const NOT_HOST = "not_host"; // on anyone but the host
const NOT_MODERATORS = "not_moderators"; // on anyone but the host and the cohosts
const NO = "no";

const row = (host, cohost, speaker, listener) => Object.freeze({ host, cohost, speaker, listener });

// action -> role -> what that role may do. "invite" also covers approving or denying a request.
export const PERMISSIONS = Object.freeze({
  start: row(ANY, NO, NO, NO),
  end: row(ANY, NO, NO, NO),
  edit: row(ANY, ANY, NO, NO),
  manage_cohosts: row(ANY, NO, NO, NO),
  invite: row(ANY, ANY, NO, NO),
  move_to_audience: row(ANY, NOT_MODERATORS, SELF, NO),
  mute: row(ANY, NOT_HOST, SELF, NO),
  unmute: row(SELF, SELF, SELF, NO),
  remove: row(ANY, NOT_MODERATORS, NO, NO),
  raise_hand: row(NO, NO, NO, ANY),
  react: row(NO, NO, ANY, ANY),
  leave: row(ANY, ANY, ANY, ANY),
  record: row(ANY, NO, NO, NO),
  pin: row(ANY, ANY, NO, NO),
});

export const ACTIONS = Object.freeze(Object.keys(PERMISSIONS));

// May someone with `role` do `action`, on themselves (the default) or on another participant
// whose role is `target`? The same answer as the server's `authorize`, as a boolean.
export function may(role, action, { target = null, self = true } = {}) {
  const allowed = PERMISSIONS[action]?.[role] ?? NO;
  if (allowed === NO) return false;
  if (allowed === SELF && !self) return false;
  if (self || target === null) return true;
  if ((allowed === NOT_HOST || allowed === NOT_MODERATORS) && target === "host") return false;
  if (allowed === NOT_MODERATORS && target === "cohost") return false;
  return true;
}

// May `role` do `action` to another participant who is a `target`?
export function mayOn(role, action, target) {
  return may(role, action, { target, self: false });
}

// Host and cohosts: they see the queue of requests, invite, and edit the space.
export function moderates(role) {
  return may(role, "invite");
}
