"""The steps every rule of a space takes: find who acts and on whom, number the events, move
someone to another role, hand the space to an heir. Shared by `rules.py` (the space itself, who
comes and goes) and `stage.py` (who speaks)."""

from __future__ import annotations

from datetime import datetime

from parley.core.errors import Conflict, Forbidden, NotFound
from parley.core.spaces.events import Event, EventData, EventLog, HostChanged, RoleChanged
from parley.core.spaces.model import Participant, Role, SpaceState, SpaceStatus


def event_log(state: SpaceState, now: datetime) -> EventLog:
    return EventLog(state.space.id, state.space.seq, now)


def done(state: SpaceState, log: EventLog) -> list[Event]:
    """Every decision that changes the space ends here. The peak is taken here, not as the
    count moves: a stage member removed passes through the audience on the way out, and that
    instant was no listener more."""
    space = state.space
    space.seq = log.seq
    space.peak_listeners = max(space.peak_listeners, space.listener_count)
    return log.events


def require_live(state: SpaceState) -> None:
    if state.space.state is not SpaceStatus.LIVE:
        raise Conflict("space_not_live", "This space is not live")


def actor(state: SpaceState, account_id: str) -> Participant:
    require_live(state)
    p = state.participants.get(account_id)
    if p is None or not p.present:
        raise Forbidden("not_in_space", "Join the space first")
    return p


def target(state: SpaceState, account_id: str) -> Participant:
    p = state.participants.get(account_id)
    if p is None or not p.present:
        raise NotFound("participant_not_found", "That account is not in this space")
    return p


def stage_has_room(state: SpaceState) -> None:
    if len(state.stage()) >= state.limits.stage_size:
        raise Conflict("stage_full", f"The stage is full ({state.limits.stage_size} people)")


def set_role(state: SpaceState, p: Participant, role: Role, now: datetime) -> None:
    """Change a present participant's role, keeping the listener count and mic rules in step."""
    if p.present and p.role is Role.LISTENER and role is not Role.LISTENER:
        state.space.listener_count -= 1
    if p.present and p.role is not Role.LISTENER and role is Role.LISTENER:
        state.space.listener_count += 1
    if role is Role.LISTENER or not p.role.on_stage:
        p.muted = True  # everyone enters the stage muted, and leaves it muted
    if role is Role.LISTENER:
        p.audio_lost = False  # said of stage members only (stage.speaker_audio)
    p.role = role
    p.role_since = now
    p.hand_raised = False
    p.invited = False


def move(log: EventLog, state: SpaceState, p: Participant, role: Role, now: datetime) -> None:
    """Give a present participant another role, and tell everyone."""
    previous = p.role
    set_role(state, p, role, now)
    log.emit(
        RoleChanged(
            p.account_id,
            p.handle,
            role=p.role,
            previous=previous,
            muted=p.muted,
            listener_count=state.space.listener_count,
        )
    )


def announce(state: SpaceState, now: datetime, data: EventData) -> list[Event]:
    """The events of an action whose one effect is one event."""
    log = event_log(state, now)
    log.emit(data)
    return done(state, log)


def heir(state: SpaceState) -> Participant | None:
    """Who inherits a space its host is gone from: the longest-serving cohost, if any."""
    cohosts = sorted(state.cohosts(), key=lambda c: (c.role_since, c.account_id))
    return cohosts[0] if cohosts else None


def hand_over(
    state: SpaceState, heir: Participant, log: EventLog, now: datetime, reason: str | None = None
) -> Participant:
    """Make `heir` the host and the old host a listener, returned. The old host is away (grace
    period over) or being taken out (suspended), so the listener count does not include them."""
    space = state.space
    old = state.participants[space.host_id]
    old.role = Role.LISTENER
    old.role_since = now
    old.audio_lost = False
    heir.role = Role.HOST
    heir.role_since = now
    space.host_id = heir.account_id
    space.host_absent_since = None
    log.emit(HostChanged(heir.account_id, heir.handle, previous=old.account_id, reason=reason))
    return old
