"""Getting on and off the stage: hands, invitations, cohosts, the mic, and reactions."""

from __future__ import annotations

from datetime import datetime

from parley.core.captions import Caption
from parley.core.errors import Conflict, Forbidden, Invalid
from parley.core.spaces import steps
from parley.core.spaces.events import (
    ActiveSpeakers,
    Captioned,
    Event,
    HandChanged,
    InvitationDeclined,
    MicChanged,
    Reacted,
    SpeakerAudio,
    SpeakerInvited,
)
from parley.core.spaces.model import Role, SpaceState, SpaceStatus, SpeakPolicy
from parley.core.spaces.permissions import Action, authorize
from parley.core.spaces.rules import finish

# What anyone in a live space may react with (the web client offers these, space/controls.js).
REACTIONS = frozenset({"👏", "😂", "❤️", "💯", "🔥", "👍", "👎", "😢", "🙏", "👋", "🎉", "🤔"})


def raise_hand(
    state: SpaceState, actor_id: str, now: datetime, *, host_follows_actor: bool = False
) -> list[Event]:
    p = steps.actor(state, actor_id)
    authorize(Action.RAISE_HAND, p.role)
    policy = state.space.speak_policy
    if policy is SpeakPolicy.INVITED:
        raise Forbidden("speaking_by_invitation_only", "In this space only invited people speak")
    if policy is SpeakPolicy.FOLLOWED and not host_follows_actor:
        raise Forbidden(
            "speaking_for_followed_only", "In this space only people the host follows may speak"
        )
    if p.hand_raised:
        return []
    p.hand_raised = True
    return steps.announce(state, now, HandChanged(p.account_id, p.handle, raised=True))


def lower_hand(state: SpaceState, actor_id: str, now: datetime) -> list[Event]:
    p = steps.actor(state, actor_id)
    if not p.hand_raised:
        return []
    p.hand_raised = False
    return steps.announce(state, now, HandChanged(p.account_id, p.handle, raised=False))


def add_speaker(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    """Approve a raised hand (the listener is on stage at once) or invite someone who did not ask
    (they accept or decline)."""
    actor = steps.actor(state, actor_id)
    authorize(Action.INVITE, actor.role)
    target = steps.target(state, target_id)
    if target.role.on_stage:
        raise Conflict("already_on_stage", "That account is already on stage")
    steps.stage_has_room(state)
    log = steps.event_log(state, now)
    if target.hand_raised:
        steps.move(log, state, target, Role.SPEAKER, now)
    elif not target.invited:
        target.invited = True
        log.emit(SpeakerInvited(target.account_id, target.handle, by=actor_id))
    return steps.done(state, log)


def accept_invitation(state: SpaceState, actor_id: str, now: datetime) -> list[Event]:
    p = steps.actor(state, actor_id)
    if not p.invited:
        raise Conflict("no_invitation", "You have no invitation to speak")
    steps.stage_has_room(state)
    log = steps.event_log(state, now)
    steps.move(log, state, p, Role.SPEAKER, now)
    return steps.done(state, log)


def decline_invitation(state: SpaceState, actor_id: str, now: datetime) -> list[Event]:
    p = steps.actor(state, actor_id)
    if not p.invited:
        raise Conflict("no_invitation", "You have no invitation to speak")
    p.invited = False
    return steps.announce(state, now, InvitationDeclined(p.account_id, p.handle))


def to_audience(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    """Move a stage member back to the audience; on a listener, deny their request or withdraw
    their invitation."""
    actor = steps.actor(state, actor_id)
    target = steps.target(state, target_id)
    log = steps.event_log(state, now)
    if not target.role.on_stage:
        authorize(Action.INVITE, actor.role)
        if target.hand_raised:
            target.hand_raised = False
            log.emit(
                HandChanged(target.account_id, target.handle, raised=False, denied_by=actor_id)
            )
        if target.invited:
            target.invited = False
            log.emit(InvitationDeclined(target.account_id, target.handle, withdrawn_by=actor_id))
        return steps.done(state, log)
    is_self = actor_id == target_id
    authorize(Action.MOVE_TO_AUDIENCE, actor.role, target_role=target.role, is_self=is_self)
    if target.role is Role.HOST:
        raise Conflict("host_stays_on_stage", "The host cannot leave the stage; end the space")
    steps.move(log, state, target, Role.LISTENER, now)
    return steps.done(state, log)


def add_cohost(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    actor = steps.actor(state, actor_id)
    authorize(Action.MANAGE_COHOSTS, actor.role)
    target = steps.target(state, target_id)
    if target.role is Role.COHOST:
        return []
    if target.role is Role.HOST:
        raise Conflict("already_host", "That account is the host")
    if len(state.cohosts()) >= state.limits.cohosts:
        raise Conflict("cohost_limit", f"A space has at most {state.limits.cohosts} cohosts")
    if not target.role.on_stage:
        steps.stage_has_room(state)
    log = steps.event_log(state, now)
    steps.move(log, state, target, Role.COHOST, now)
    return steps.done(state, log)


def remove_cohost(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    """The host makes a cohost a speaker again; a cohost may also step down themselves."""
    actor = steps.actor(state, actor_id)
    if actor_id != target_id or actor.role is not Role.COHOST:
        authorize(Action.MANAGE_COHOSTS, actor.role)
    target = steps.target(state, target_id)
    if target.role is not Role.COHOST:
        raise Conflict("not_cohost", "That account is not a cohost")
    log = steps.event_log(state, now)
    steps.move(log, state, target, Role.SPEAKER, now)
    return steps.done(state, log)


def mute(state: SpaceState, actor_id: str, target_id: str, now: datetime) -> list[Event]:
    actor = steps.actor(state, actor_id)
    target = steps.target(state, target_id)
    authorize(Action.MUTE, actor.role, target_role=target.role, is_self=actor_id == target_id)
    if not target.role.on_stage:
        raise Conflict("not_on_stage", "Only people on stage have a mic")
    if target.muted:
        return []
    target.muted = True
    return steps.announce(
        state, now, MicChanged(target.account_id, target.handle, muted=True, by=actor_id)
    )


def unmute(state: SpaceState, actor_id: str, now: datetime) -> list[Event]:
    p = steps.actor(state, actor_id)
    authorize(Action.UNMUTE, p.role)
    if not p.muted:
        return []
    p.muted = False
    return steps.announce(state, now, MicChanged(p.account_id, p.handle, muted=False, by=actor_id))


def react(state: SpaceState, actor_id: str, emoji: str, now: datetime) -> list[Event]:
    p = steps.actor(state, actor_id)
    authorize(Action.REACT, p.role)
    if emoji not in REACTIONS:
        raise Invalid("invalid_reaction", "Pick one of the offered reactions")
    return steps.announce(state, now, Reacted(p.account_id, p.handle, emoji=emoji))


def active_speakers(state: SpaceState, account_ids: list[str], now: datetime) -> list[Event]:
    """Who is talking now, as measured by the mixer; the caller limits how often this is sent."""
    if state.space.state is not SpaceStatus.LIVE:
        return []
    return steps.announce(state, now, ActiveSpeakers(tuple(account_ids)))


def speaker_audio(
    state: SpaceState, account_id: str, connected: bool, now: datetime
) -> list[Event]:
    """A stage member's audio connection died, or one of theirs is up, as the home node's room
    saw it: told when that changes what others should show (reconnecting, or their mic again).
    Only of someone still on stage in a live space: who left or went to the audience has events
    of their own."""
    p = state.participants.get(account_id)
    if state.space.state is not SpaceStatus.LIVE or p is None or not p.on_stage:
        return []
    if p.audio_lost is not connected:
        return []  # as it was: a first connection, or a loss already told
    p.audio_lost = not connected
    return steps.announce(state, now, SpeakerAudio(p.account_id, p.handle, connected=connected))


def caption(state: SpaceState, said: Caption, now: datetime) -> list[Event]:
    """A final caption joins the space's log (partials never do: they are replaced within the
    second, and a late joiner has no use for them)."""
    if state.space.state is not SpaceStatus.LIVE or not said.final:
        return []
    return steps.announce(
        state, now, Captioned(said.speaker, said.text, said.final, said.start, said.end)
    )


def restrict(state: SpaceState, account_id: str, now: datetime) -> list[Event]:
    """An account a moderator limited comes off the stage at once and stays to listen: a speaker
    or cohost moves to the audience, a raised hand goes down and an invitation lapses, a host
    hands the space to the longest-serving cohost (`host_limited`; one away during the grace
    period is not brought back to listen) or it ends. A scheduled space waits: its host may not
    start it while limited."""
    p = state.participants.get(account_id)
    if state.space.state is not SpaceStatus.LIVE or p is None or p.removed:
        return []
    log = steps.event_log(state, now)
    if p.role is Role.HOST:
        heir = steps.heir(state)
        if heir is None:
            return finish(state, now, "host_limited")
        steps.hand_over(state, heir, log, now, reason="host_limited")
        if p.present:
            # Here: they stay to listen, counted (steps.hand_over leaves an old host a listener not
            # counted, as for one away). A host away stays away, as after the grace period.
            p.role = Role.HOST
            steps.move(log, state, p, Role.LISTENER, now)
    elif p.role.on_stage:
        steps.move(log, state, p, Role.LISTENER, now)
    else:
        if p.hand_raised:
            p.hand_raised = False
            log.emit(HandChanged(p.account_id, p.handle, raised=False))
        if p.invited:
            p.invited = False
            log.emit(InvitationDeclined(p.account_id, p.handle, withdrawn_by="moderation"))
    return steps.done(state, log)
