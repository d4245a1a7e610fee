"""What each action does to a space. Every function checks first and changes state only once the
action is allowed, so a refused action leaves the state exactly as it was.

Each function mutates the `SpaceState` it is given and returns the events it produced, numbered
after the space's last sequence number.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from parley.core.accounts import Departure
from parley.core.errors import Conflict, Forbidden, NotFound
from parley.core.spaces import steps
from parley.core.spaces.events import (
    Event,
    HostAbsent,
    HostReturned,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantRemoved,
    PinsChanged,
    RecordingChanged,
    SpaceCancelled,
    SpaceEnded,
    SpaceStarted,
    SpaceUpdated,
)
from parley.core.spaces.model import Participant, Role, SpaceState, SpaceStatus
from parley.core.spaces.permissions import Action, authorize

T = TypeVar("T")

# Why a scheduled space was called off when its host never started it (`lapse`).
NOT_STARTED = "not_started"

# --- the space itself -------------------------------------------------------------------------


def start(state: SpaceState, actor_id: str, handle: str, now: datetime) -> list[Event]:
    space = state.space
    authorize(Action.START, Role.HOST if actor_id == space.host_id else Role.LISTENER)
    if space.state is not SpaceStatus.SCHEDULED:
        raise Conflict("space_not_scheduled", "Only a scheduled space can be started")
    log = steps.event_log(state, now)
    space.state = SpaceStatus.LIVE
    space.started_at = now
    host = Participant(actor_id, handle, Role.HOST, joined_at=now, role_since=now)
    state.participants[actor_id] = host
    space.tuned_in += 1
    log.emit(SpaceStarted(host_id=actor_id, started_at=now))
    log.emit(ParticipantJoined(actor_id, handle, role=Role.HOST, muted=True, listener_count=0))
    return steps.done(state, log)


def _role_outside_live(state: SpaceState, actor_id: str) -> Role:
    """Before a space is live nobody is in it (and its host may be away while it is); its host
    still owns it."""
    return Role.HOST if actor_id == state.space.host_id else Role.LISTENER


def _authorize_until_over(state: SpaceState, action: Action, actor_id: str) -> None:
    """What may be done to a space until it is over: live, by role in the room; scheduled, by
    its host."""
    if state.space.state is SpaceStatus.LIVE:
        authorize(action, steps.actor(state, actor_id).role)
    elif state.space.state is SpaceStatus.SCHEDULED:
        authorize(action, _role_outside_live(state, actor_id))
    else:
        raise Conflict("space_over", "This space is already over")


def end(state: SpaceState, actor_id: str, now: datetime, reason: str = "ended") -> list[Event]:
    """The host ends their space, in it or not: one who stepped away (the space waiting out
    their grace period) need not come back to end it."""
    space = state.space
    if space.state is SpaceStatus.LIVE and actor_id != space.host_id:
        authorize(Action.END, steps.actor(state, actor_id).role)
    else:
        authorize(Action.END, _role_outside_live(state, actor_id))
    return finish(state, now, reason)


def finish(state: SpaceState, now: datetime, reason: str, message: str = "") -> list[Event]:
    """End a live space or cancel a scheduled one, whoever asks (the host, a timer, an admin).
    `message`: what everyone in it is told (an admin taking Spaces offline says why)."""
    space = state.space
    log = steps.event_log(state, now)
    if space.state is SpaceStatus.SCHEDULED:
        space.state = SpaceStatus.CANCELLED
        space.end_reason = reason
        log.emit(SpaceCancelled(reason, message or None))
    elif space.state is SpaceStatus.LIVE:
        space.state = SpaceStatus.ENDED
        space.ended_at = now
        space.end_reason = reason
        space.host_absent_since = None
        for p in state.participants.values():
            p.present = False
        space.listener_count = 0
        log.emit(SpaceEnded(reason, ended_at=now, message=message or None))
    else:
        raise Conflict("space_over", "This space is already over")
    return steps.done(state, log)


def lapse(state: SpaceState, now: datetime, window: timedelta) -> list[Event]:
    """A scheduled space its host has not started `window` after its time is called off."""
    space = state.space
    start = space.scheduled_start
    if space.state is not SpaceStatus.SCHEDULED or start is None or now - start < window:
        return []
    return finish(state, now, NOT_STARTED)


def edit(
    state: SpaceState,
    actor_id: str,
    now: datetime,
    changes: SpaceUpdated,
) -> list[Event]:
    """Apply already-validated changes to title, description, topics or, while the space is
    scheduled, its start (those not None)."""
    space = state.space
    _authorize_until_over(state, Action.EDIT, actor_id)
    if changes.scheduled_start is not None and space.state is not SpaceStatus.SCHEDULED:
        raise Conflict("space_not_scheduled", "Only a scheduled space can be moved to another time")
    changed = SpaceUpdated(
        title=_changed(space.title, changes.title),
        description=_changed(space.description, changes.description),
        topics=_changed(space.topics, changes.topics),
        scheduled_start=_changed(space.scheduled_start, changes.scheduled_start),
    )
    if changed == SpaceUpdated():
        return []
    space.title = _or(changed.title, space.title)
    space.description = _or(changed.description, space.description)
    space.topics = _or(changed.topics, space.topics)
    space.scheduled_start = _or(changed.scheduled_start, space.scheduled_start)
    return steps.announce(state, now, changed)


def set_pins(
    state: SpaceState,
    actor_id: str,
    now: datetime,
    change: Callable[[tuple[str, ...]], tuple[str, ...]],
) -> list[Event]:
    """Pin or unpin a post (`change` is pins.pinned_with or pinned_without, bound to it)."""
    space = state.space
    _authorize_until_over(state, Action.PIN, actor_id)
    pinned = change(space.pinned)
    if pinned == space.pinned:
        return []
    space.pinned = pinned
    return steps.announce(state, now, PinsChanged(pinned, actor_id))


def drop_pin(state: SpaceState, post_id: str, now: datetime, by: str) -> list[Event]:
    """A pinned post nobody may read any more (deleted by its author, removed by a moderator)
    leaves the pins at once, whoever pinned it, and the room is told: no screen keeps showing
    it. `by`: its author, or "moderation"."""
    space = state.space
    if post_id not in space.pinned or space.state not in (SpaceStatus.LIVE, SpaceStatus.SCHEDULED):
        return []
    space.pinned = tuple(p for p in space.pinned if p != post_id)
    return steps.announce(state, now, PinsChanged(space.pinned, by))


def _changed(old: T, new: T | None) -> T | None:
    """`new` if it is given and differs from `old`; None otherwise."""
    return new if new is not None and new != old else None


def _or(new: T | None, old: T) -> T:
    return old if new is None else new


# --- coming and going -------------------------------------------------------------------------


def check_may_follow(participant: Participant | None, *, blocked_by_host: bool) -> None:
    """Who may be in a space or follow its events: not someone removed from it, and not an
    account its host has blocked. Joining and the event socket ask the same question."""
    if participant is not None and participant.removed:
        raise Forbidden("removed_from_space", "You were removed from this space")
    if blocked_by_host:
        raise Forbidden("blocked_by_host", "The host of this space has blocked you")


def join(
    state: SpaceState,
    account_id: str,
    handle: str,
    now: datetime,
    *,
    blocked_by_host: bool = False,
) -> list[Event]:
    steps.require_live(state)
    space = state.space
    p = state.participants.get(account_id)
    check_may_follow(p, blocked_by_host=blocked_by_host)
    if p is not None and p.present:
        return []
    log = steps.event_log(state, now)
    if account_id == space.host_id:
        assert p is not None  # a live space's host always has a participant record
        p.present = True
        space.host_absent_since = None
        log.emit(HostReturned(p.account_id, p.handle))
    else:
        if p is None:  # the first time in this space: one more who tuned in
            space.tuned_in += 1
        p = Participant(account_id, handle, Role.LISTENER, joined_at=now, role_since=now)
        state.participants[account_id] = p
        space.listener_count += 1
    log.emit(
        ParticipantJoined(
            p.account_id,
            p.handle,
            role=p.role,
            muted=p.muted,
            listener_count=space.listener_count,
        )
    )
    return steps.done(state, log)


def leave(state: SpaceState, actor_id: str, now: datetime, reason: str = "left") -> list[Event]:
    p = steps.actor(state, actor_id)
    authorize(Action.LEAVE, p.role)
    space = state.space
    log = steps.event_log(state, now)
    if p.role is Role.HOST:
        # The host keeps the space for a grace period; see `host_timeout`.
        p.present = False
        space.host_absent_since = now
        log.emit(HostAbsent(p.account_id, p.handle, reason=reason))
        return steps.done(state, log)
    steps.set_role(state, p, Role.LISTENER, now)
    p.present = False
    space.listener_count -= 1
    log.emit(ParticipantLeft(p.account_id, p.handle, reason, space.listener_count))
    return steps.done(state, log)


def host_timeout(state: SpaceState, now: datetime, grace: timedelta) -> list[Event]:
    """After the grace period the longest-serving cohost becomes host, or the space ends."""
    space = state.space
    since = space.host_absent_since
    if space.state is not SpaceStatus.LIVE or since is None or now - since < grace:
        return []
    heir = steps.heir(state)
    if heir is None:
        return finish(state, now, "host_left")
    log = steps.event_log(state, now)
    steps.hand_over(state, heir, log, now)
    return steps.done(state, log)


def remove(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    actor = steps.actor(state, actor_id)
    target = state.participants.get(target_id)
    if target is None or target.removed:
        raise NotFound("participant_not_found", "That account is not in this space")
    authorize(Action.REMOVE, actor.role, target_role=target.role, is_self=actor_id == target_id)
    if actor_id == target_id:
        raise Conflict("cannot_remove_self", "Leave the space instead")
    return expel(state, target_id, now, by=actor_id)


def expel(
    state: SpaceState, target_id: str, now: datetime, *, by: str, reason: str = "removed"
) -> list[Event]:
    """Take an account out of the space for good, whoever decided it (a moderator in the room,
    the host's block, a suspension). The host cannot be expelled this way."""
    target = state.participants.get(target_id)
    if target is None or target.removed or target_id == state.space.host_id:
        return []
    log = steps.event_log(state, now)
    if target.present:
        steps.set_role(state, target, Role.LISTENER, now)
        state.space.listener_count -= 1
    target.present = False
    target.removed = True
    log.emit(
        ParticipantRemoved(target.account_id, target.handle, by, reason, state.space.listener_count)
    )
    return steps.done(state, log)


def depart(state: SpaceState, account_id: str, now: datetime, why: Departure) -> list[Event]:
    """An account that may no longer be anywhere (suspended, or deactivated) leaves the space at
    once and for good, whatever its role. A space it hosts passes to the longest-serving cohost
    without a grace period, or ends; a scheduled space it hosts is cancelled."""
    space = state.space
    if space.state is SpaceStatus.SCHEDULED:
        return finish(state, now, why.host_reason) if space.host_id == account_id else []
    if space.state is not SpaceStatus.LIVE:
        return []
    # Moderation took a suspended account out; a deactivated one took itself out.
    by = "moderation" if why is Departure.SUSPENDED else account_id
    if space.host_id != account_id:
        return expel(state, account_id, now, by=by, reason=why.value)
    heir = steps.heir(state)
    if heir is None:
        return finish(state, now, why.host_reason)
    log = steps.event_log(state, now)
    host = steps.hand_over(state, heir, log, now, reason=why.host_reason)
    # Out for good (never counted as a listener, so the count stands).
    host.muted = True
    host.present = False
    host.removed = True
    log.emit(ParticipantRemoved(host.account_id, host.handle, by, why.value, space.listener_count))
    return steps.done(state, log)


def set_recording(state: SpaceState, actor_id: str, on: bool, now: datetime) -> list[Event]:
    """The host turns recording on or off while live; everyone is told (REC on the stage)."""
    p = steps.actor(state, actor_id)
    authorize(Action.RECORD, p.role)
    if state.space.recording == on:
        return []
    state.space.recording = on
    return steps.announce(state, now, RecordingChanged(recording=on, by=actor_id))
