"""Who may do what in a space: the permission table of DESIGN.md, decided in this one place."""

from __future__ import annotations

from enum import Enum, StrEnum

from parley.core.errors import Forbidden
from parley.core.spaces.model import Role


class Action(StrEnum):
    START = "start"
    END = "end"
    EDIT = "edit"
    MANAGE_COHOSTS = "manage_cohosts"
    INVITE = "invite"  # invite to speak, approve or deny a request
    MOVE_TO_AUDIENCE = "move_to_audience"
    MUTE = "mute"
    UNMUTE = "unmute"
    REMOVE = "remove"
    RAISE_HAND = "raise_hand"
    REACT = "react"
    LEAVE = "leave"
    RECORD = "record"  # turn recording on or off while live
    PIN = "pin"  # pin a post to the space, or unpin one


class Allowed(Enum):
    ANY = "any"  # on any participant
    SELF = "self"  # only on oneself
    NOT_HOST = "not_host"  # on anyone but the host
    NOT_MODERATORS = "not_moderators"  # on anyone but the host and the cohosts
    NO = "no"


_H, _C, _S, _L = Role.HOST, Role.COHOST, Role.SPEAKER, Role.LISTENER
A = Allowed

PERMISSIONS: dict[Action, dict[Role, Allowed]] = {
    Action.START: {_H: A.ANY, _C: A.NO, _S: A.NO, _L: A.NO},
    Action.END: {_H: A.ANY, _C: A.NO, _S: A.NO, _L: A.NO},
    Action.EDIT: {_H: A.ANY, _C: A.ANY, _S: A.NO, _L: A.NO},
    Action.MANAGE_COHOSTS: {_H: A.ANY, _C: A.NO, _S: A.NO, _L: A.NO},
    Action.INVITE: {_H: A.ANY, _C: A.ANY, _S: A.NO, _L: A.NO},
    Action.MOVE_TO_AUDIENCE: {_H: A.ANY, _C: A.NOT_MODERATORS, _S: A.SELF, _L: A.NO},
    Action.MUTE: {_H: A.ANY, _C: A.NOT_HOST, _S: A.SELF, _L: A.NO},
    Action.UNMUTE: {_H: A.SELF, _C: A.SELF, _S: A.SELF, _L: A.NO},
    Action.REMOVE: {_H: A.ANY, _C: A.NOT_MODERATORS, _S: A.NO, _L: A.NO},
    Action.RAISE_HAND: {_H: A.NO, _C: A.NO, _S: A.NO, _L: A.ANY},
    Action.REACT: {_H: A.NO, _C: A.NO, _S: A.ANY, _L: A.ANY},
    # DESIGN.md's table lists no "leave" for the host, but its text gives the host who leaves a
    # grace period, so leaving is open to everyone; what it does to the space is decided in rules.
    Action.LEAVE: {_H: A.ANY, _C: A.ANY, _S: A.ANY, _L: A.ANY},
    # Everyone on stage is recorded: only the host, who answers for the space, decides that.
    Action.RECORD: {_H: A.ANY, _C: A.NO, _S: A.NO, _L: A.NO},
    # Pinned posts sit above the stage for everyone: those who run the room choose them.
    Action.PIN: {_H: A.ANY, _C: A.ANY, _S: A.NO, _L: A.NO},
}


def authorize(
    action: Action,
    actor_role: Role,
    *,
    target_role: Role | None = None,
    is_self: bool = True,
) -> None:
    """Raise `Forbidden` with a code naming the action (or the protected target) if not allowed."""
    allowed = PERMISSIONS[action][actor_role]
    refused = Forbidden(
        f"{action.value}_not_allowed",
        f"A {actor_role.value} may not {action.value.replace('_', ' ')}"
        + ("" if is_self else " on another participant"),
    )
    if allowed is Allowed.NO:
        raise refused
    if allowed is Allowed.SELF and not is_self:
        raise refused
    if is_self or target_role is None:
        return
    if allowed in (Allowed.NOT_HOST, Allowed.NOT_MODERATORS) and target_role is Role.HOST:
        raise Forbidden("cannot_target_host", f"A {actor_role.value} may not do that to the host")
    if allowed is Allowed.NOT_MODERATORS and target_role is Role.COHOST:
        raise Forbidden("cannot_target_cohost", f"A {actor_role.value} may not do that to a cohost")
