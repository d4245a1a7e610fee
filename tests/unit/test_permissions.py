"""The permission table of DESIGN.md, row by row, through the real rule functions.

The parameters come from `PERMISSIONS` itself (every action, every role), the outcomes from
`EXPECTED` below, written out by hand from DESIGN.md. Each case is played in a real room built with
the rules: allowed actions must do what the person asked (roles, mics, hands, events), refused ones
must fail with their own code and leave the space exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import pytest

from parley.core.errors import Conflict, Forbidden, NotFound, RuleViolation
from parley.core.spaces import rules, stage
from parley.core.spaces.event_wire import wire_data
from parley.core.spaces.events import Event, EventType, SpaceUpdated
from parley.core.spaces.model import (
    Limits,
    Participant,
    Role,
    SpaceState,
    SpaceStatus,
    SpeakPolicy,
)
from parley.core.spaces.permissions import PERMISSIONS, Action, authorize
from parley.core.spaces.pins import pinned_with, pinned_without
from parley.core.wire import WireData
from tests.support.space_states import C1, C2, HOST, L1, L2, S1, S2, T0, scheduled_space

GRACE = timedelta(seconds=60)

# Who acts for each role, and who is "another" participant of each role.
ACTOR = {Role.HOST: HOST, Role.COHOST: C1, Role.SPEAKER: S1, Role.LISTENER: L1}
OTHER = {"host": HOST, "cohost": C2, "speaker": S2, "listener": L2}

OK = "ok"
_H, _C, _S, _L = Role.HOST, Role.COHOST, Role.SPEAKER, Role.LISTENER

# What DESIGN.md promises, per action, per role of the actor, per case. Written out, not derived.
EXPECTED: dict[Action, dict[Role, dict[str, str]]] = {
    Action.START: {
        _H: {"start": OK},
        _C: {"start": "start_not_allowed"},
        _S: {"start": "start_not_allowed"},
        _L: {"start": "start_not_allowed"},
    },
    Action.END: {
        _H: {"end": OK},
        _C: {"end": "end_not_allowed"},
        _S: {"end": "end_not_allowed"},
        _L: {"end": "end_not_allowed"},
    },
    Action.EDIT: {
        _H: {"edit title": OK},
        _C: {"edit title": OK},
        _S: {"edit title": "edit_not_allowed"},
        _L: {"edit title": "edit_not_allowed"},
    },
    Action.MANAGE_COHOSTS: {
        _H: {
            "make a speaker cohost": OK,
            "make a listener cohost": OK,
            "make a cohost a speaker": OK,
            "step down": "not_cohost",
        },
        _C: {
            "make a speaker cohost": "manage_cohosts_not_allowed",
            "make a listener cohost": "manage_cohosts_not_allowed",
            "make a cohost a speaker": "manage_cohosts_not_allowed",
            "step down": OK,
        },
        _S: {
            "make a speaker cohost": "manage_cohosts_not_allowed",
            "make a listener cohost": "manage_cohosts_not_allowed",
            "make a cohost a speaker": "manage_cohosts_not_allowed",
            "step down": "manage_cohosts_not_allowed",
        },
        _L: {
            "make a speaker cohost": "manage_cohosts_not_allowed",
            "make a listener cohost": "manage_cohosts_not_allowed",
            "make a cohost a speaker": "manage_cohosts_not_allowed",
            "step down": "manage_cohosts_not_allowed",
        },
    },
    Action.INVITE: {
        _H: {
            "invite a listener": OK,
            "approve a raised hand": OK,
            "deny a raised hand": OK,
            "withdraw an invitation": OK,
        },
        _C: {
            "invite a listener": OK,
            "approve a raised hand": OK,
            "deny a raised hand": OK,
            "withdraw an invitation": OK,
        },
        _S: {
            "invite a listener": "invite_not_allowed",
            "approve a raised hand": "invite_not_allowed",
            "deny a raised hand": "invite_not_allowed",
            "withdraw an invitation": "invite_not_allowed",
        },
        _L: {
            "invite a listener": "invite_not_allowed",
            "approve a raised hand": "invite_not_allowed",
            "deny a raised hand": "invite_not_allowed",
            "withdraw an invitation": "invite_not_allowed",
        },
    },
    Action.MOVE_TO_AUDIENCE: {
        _H: {"self": "host_stays_on_stage", "cohost": OK, "speaker": OK},
        _C: {
            "self": OK,
            "host": "cannot_target_host",
            "cohost": "cannot_target_cohost",
            "speaker": OK,
        },
        _S: {
            "self": OK,
            "host": "move_to_audience_not_allowed",
            "cohost": "move_to_audience_not_allowed",
            "speaker": "move_to_audience_not_allowed",
        },
        _L: {
            "host": "move_to_audience_not_allowed",
            "cohost": "move_to_audience_not_allowed",
            "speaker": "move_to_audience_not_allowed",
        },
    },
    Action.MUTE: {
        _H: {"self": OK, "cohost": OK, "speaker": OK, "listener": "not_on_stage"},
        _C: {
            "self": OK,
            "host": "cannot_target_host",
            "cohost": OK,
            "speaker": OK,
            "listener": "not_on_stage",
        },
        _S: {
            "self": OK,
            "host": "mute_not_allowed",
            "cohost": "mute_not_allowed",
            "speaker": "mute_not_allowed",
            "listener": "mute_not_allowed",
        },
        _L: {
            "self": "mute_not_allowed",
            "host": "mute_not_allowed",
            "cohost": "mute_not_allowed",
            "speaker": "mute_not_allowed",
            "listener": "mute_not_allowed",
        },
    },
    Action.UNMUTE: {
        _H: {"self": OK},
        _C: {"self": OK},
        _S: {"self": OK},
        _L: {"self": "unmute_not_allowed"},
    },
    Action.REMOVE: {
        _H: {"self": "cannot_remove_self", "cohost": OK, "speaker": OK, "listener": OK},
        _C: {
            "self": "cannot_remove_self",
            "host": "cannot_target_host",
            "cohost": "cannot_target_cohost",
            "speaker": OK,
            "listener": OK,
        },
        _S: {
            "self": "remove_not_allowed",
            "host": "remove_not_allowed",
            "cohost": "remove_not_allowed",
            "speaker": "remove_not_allowed",
            "listener": "remove_not_allowed",
        },
        _L: {
            "self": "remove_not_allowed",
            "host": "remove_not_allowed",
            "cohost": "remove_not_allowed",
            "speaker": "remove_not_allowed",
            "listener": "remove_not_allowed",
        },
    },
    Action.RAISE_HAND: {
        _H: {"raise hand": "raise_hand_not_allowed"},
        _C: {"raise hand": "raise_hand_not_allowed"},
        _S: {"raise hand": "raise_hand_not_allowed"},
        _L: {"raise hand": OK},
    },
    Action.REACT: {
        _H: {"react": "react_not_allowed"},
        _C: {"react": "react_not_allowed"},
        _S: {"react": OK},
        _L: {"react": OK},
    },
    Action.LEAVE: {
        _H: {"leave": OK},
        _C: {"leave": OK},
        _S: {"leave": OK},
        _L: {"leave": OK},
    },
    Action.RECORD: {
        _H: {"record": OK},
        _C: {"record": "record_not_allowed"},
        _S: {"record": "record_not_allowed"},
        _L: {"record": "record_not_allowed"},
    },
    Action.PIN: {
        _H: {"pin": OK, "unpin": OK},
        _C: {"pin": OK, "unpin": OK},
        _S: {"pin": "pin_not_allowed", "unpin": "pin_not_allowed"},
        _L: {"pin": "pin_not_allowed", "unpin": "pin_not_allowed"},
    },
}

# Codes that mean "your role may not do this"; the rest are about the current state.
FORBIDDEN_CODES = {"cannot_target_host", "cannot_target_cohost", "not_in_space"}


# --- building rooms with the real rules ----------------------------------------------------


class Clock:
    """Each reading is one second after the last, so who came first is never a tie."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class Room:
    state: SpaceState
    clock: Clock

    def p(self, account_id: str) -> Participant:
        return self.state.participants[account_id]

    def role(self, account_id: str) -> Role:
        return self.p(account_id).role

    def make_speaker(self, account_id: str) -> None:
        stage.add_speaker(self.state, HOST, account_id, self.clock())
        stage.accept_invitation(self.state, account_id, self.clock())


def live_room(limits: Limits | None = None, policy: SpeakPolicy = SpeakPolicy.EVERYONE) -> Room:
    """host; cohosts c1, c2; speakers s1, s2; listeners l1, l2 — every one of them present.

    Three cohost places, so that the host may still add one (the limit itself is tested below).
    """
    room = Room(scheduled_space(limits or Limits(cohosts=3), policy), Clock())
    rules.start(room.state, HOST, HOST, room.clock())
    for who in (C1, C2, S1, S2, L1, L2):
        rules.join(room.state, who, who, room.clock())
    for who in (C1, C2):
        stage.add_cohost(room.state, HOST, who, room.clock())
    for who in (S1, S2):
        room.make_speaker(who)
    return room


def refused(code: str, state: SpaceState, act: Callable[[], object]) -> RuleViolation:
    """The action fails with `code` and the space is exactly as it was, sequence number included."""
    before = copy.deepcopy(state)
    with pytest.raises(RuleViolation) as caught:
        act()
    assert caught.value.code == code, caught.value.message
    assert state == before, f"refused with {code} but the space changed"
    return caught.value


def status(state: SpaceState) -> SpaceStatus:
    return state.space.state


def types(events: list[Event]) -> list[EventType]:
    return [e.type for e in events]


def wire(event: Event) -> WireData:
    """The event's `data` as clients are sent it."""
    return wire_data(event.data)


# --- one case: set up, act, and what the person must see ------------------------------------


@dataclass
class Attempt:
    state: SpaceState
    act: Callable[[], list[Event]]
    check: Callable[[list[Event]], None]


Case = Callable[[Room, str], Attempt]


def target_of(kind: str, actor: str) -> str:
    return actor if kind == "self" else OTHER[kind]


def case_start(room: Room, actor: str) -> Attempt:
    if actor != HOST:
        # A cohost or speaker of a live space is no more able to start it than anyone else.
        return Attempt(room.state, lambda: rules.start(room.state, actor, actor, room.clock()), _no)
    state = scheduled_space()

    def check(events: list[Event]) -> None:
        assert status(state) is SpaceStatus.LIVE
        assert state.participants[HOST].role is Role.HOST
        assert state.participants[HOST].muted
        assert types(events) == [EventType.SPACE_STARTED, EventType.PARTICIPANT_JOINED]

    return Attempt(state, lambda: rules.start(state, HOST, HOST, room.clock()), check)


def _no(events: list[Event]) -> None:
    raise AssertionError("expected a refusal")


def case_end(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert status(room.state) is SpaceStatus.ENDED
        assert not any(p.present for p in room.state.participants.values())
        assert room.state.space.listener_count == 0
        assert types(events) == [EventType.SPACE_ENDED]

    return Attempt(room.state, lambda: rules.end(room.state, actor, room.clock()), check)


def case_edit(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.state.space.title == "Evening show"
        assert types(events) == [EventType.SPACE_UPDATED]
        assert wire(events[0]) == {"title": "Evening show"}

    def act() -> list[Event]:
        return rules.edit(room.state, actor, room.clock(), SpaceUpdated(title="Evening show"))

    return Attempt(room.state, act, check)


def case_make_cohost(kind: str) -> Case:
    def case(room: Room, actor: str) -> Attempt:
        target = OTHER[kind]
        listeners = room.state.space.listener_count

        def check(events: list[Event]) -> None:
            assert room.role(target) is Role.COHOST
            assert types(events) == [EventType.ROLE_CHANGED]
            assert wire(events[0])["role"] == "cohost"
            assert wire(events[0])["previous"] == kind
            gone_from_audience = 1 if kind == "listener" else 0
            assert room.state.space.listener_count == listeners - gone_from_audience

        return Attempt(
            room.state, lambda: stage.add_cohost(room.state, actor, target, room.clock()), check
        )

    return case


def case_demote_cohost(kind: str) -> Case:
    def case(room: Room, actor: str) -> Attempt:
        target = target_of(kind, actor)

        def check(events: list[Event]) -> None:
            assert room.role(target) is Role.SPEAKER
            assert room.p(target).on_stage
            assert types(events) == [EventType.ROLE_CHANGED]
            assert wire(events[0])["previous"] == "cohost"

        return Attempt(
            room.state, lambda: stage.remove_cohost(room.state, actor, target, room.clock()), check
        )

    return case


def case_invite(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.p(L2).invited
        assert room.role(L2) is Role.LISTENER  # not on stage until they accept
        assert types(events) == [EventType.SPEAKER_INVITED]
        assert wire(events[0])["by"] == actor

    return Attempt(
        room.state, lambda: stage.add_speaker(room.state, actor, L2, room.clock()), check
    )


def case_approve(room: Room, actor: str) -> Attempt:
    stage.raise_hand(room.state, L2, room.clock())
    listeners = room.state.space.listener_count

    def check(events: list[Event]) -> None:
        assert room.role(L2) is Role.SPEAKER
        assert room.p(L2).muted  # on stage, but muted until they unmute themselves
        assert not room.p(L2).hand_raised
        assert room.state.space.listener_count == listeners - 1
        assert types(events) == [EventType.ROLE_CHANGED]

    return Attempt(
        room.state, lambda: stage.add_speaker(room.state, actor, L2, room.clock()), check
    )


def case_deny(room: Room, actor: str) -> Attempt:
    stage.raise_hand(room.state, L2, room.clock())

    def check(events: list[Event]) -> None:
        assert not room.p(L2).hand_raised
        assert room.role(L2) is Role.LISTENER
        assert types(events) == [EventType.HAND_CHANGED]
        assert wire(events[0])["denied_by"] == actor

    return Attempt(
        room.state, lambda: stage.to_audience(room.state, actor, L2, room.clock()), check
    )


def case_withdraw(room: Room, actor: str) -> Attempt:
    stage.add_speaker(room.state, HOST, L2, room.clock())

    def check(events: list[Event]) -> None:
        assert not room.p(L2).invited
        assert types(events) == [EventType.INVITATION_DECLINED]
        assert wire(events[0])["withdrawn_by"] == actor
        refused("no_invitation", room.state, lambda: stage.accept_invitation(room.state, L2, T0))

    return Attempt(
        room.state, lambda: stage.to_audience(room.state, actor, L2, room.clock()), check
    )


def case_to_audience(kind: str) -> Case:
    def case(room: Room, actor: str) -> Attempt:
        target = target_of(kind, actor)
        stage.unmute(room.state, target, room.clock())
        listeners = room.state.space.listener_count

        def check(events: list[Event]) -> None:
            assert room.role(target) is Role.LISTENER
            assert not room.p(target).on_stage
            assert room.p(target).muted  # off the stage means off the air
            assert room.state.space.listener_count == listeners + 1
            assert types(events) == [EventType.ROLE_CHANGED]
            assert wire(events[0])["role"] == "listener"

        return Attempt(
            room.state, lambda: stage.to_audience(room.state, actor, target, room.clock()), check
        )

    return case


def case_mute(kind: str) -> Case:
    def case(room: Room, actor: str) -> Attempt:
        target = target_of(kind, actor)
        if room.p(target).on_stage:
            stage.unmute(room.state, target, room.clock())  # so that muting shows

        def check(events: list[Event]) -> None:
            assert room.p(target).muted
            assert room.p(target).on_stage
            assert types(events) == [EventType.MIC_CHANGED]
            assert wire(events[0])["muted"] is True
            assert wire(events[0])["by"] == actor

        return Attempt(
            room.state, lambda: stage.mute(room.state, actor, target, room.clock()), check
        )

    return case


def case_unmute(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert not room.p(actor).muted
        assert types(events) == [EventType.MIC_CHANGED]
        assert wire(events[0])["muted"] is False

    return Attempt(room.state, lambda: stage.unmute(room.state, actor, room.clock()), check)


def case_remove(kind: str) -> Case:
    def case(room: Room, actor: str) -> Attempt:
        target = target_of(kind, actor)

        def check(events: list[Event]) -> None:
            assert room.p(target).removed
            assert not room.p(target).present
            assert target not in {p.account_id for p in room.state.stage()}
            assert types(events) == [EventType.PARTICIPANT_REMOVED]
            assert wire(events[0])["by"] == actor
            refused(
                "removed_from_space",
                room.state,
                lambda: rules.join(room.state, target, target, room.clock()),
            )

        return Attempt(
            room.state, lambda: rules.remove(room.state, actor, target, room.clock()), check
        )

    return case


def case_raise_hand(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.p(actor).hand_raised
        assert types(events) == [EventType.HAND_CHANGED]
        assert wire(events[0])["raised"] is True

    return Attempt(room.state, lambda: stage.raise_hand(room.state, actor, room.clock()), check)


def case_react(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert types(events) == [EventType.REACTION]
        assert wire(events[0]) == {"account_id": actor, "handle": actor, "emoji": "👏"}

    return Attempt(room.state, lambda: stage.react(room.state, actor, "👏", room.clock()), check)


def case_record(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.state.space.recording
        assert types(events) == [EventType.RECORDING_CHANGED]
        assert wire(events[0]) == {"recording": True, "by": actor}

    def act() -> list[Event]:
        return rules.set_recording(room.state, actor, True, room.clock())

    return Attempt(room.state, act, check)


def case_pin(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.state.space.pinned == ("post-2", "post-1")
        assert types(events) == [EventType.PINS_CHANGED]
        assert wire(events[0]) == {"post_ids": ["post-2", "post-1"], "by": actor}

    room.state.space.pinned = ("post-1",)
    change = partial(pinned_with, post_id="post-2")
    return Attempt(
        room.state, lambda: rules.set_pins(room.state, actor, room.clock(), change), check
    )


def case_unpin(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        assert room.state.space.pinned == ("post-2",)
        assert wire(events[0]) == {"post_ids": ["post-2"], "by": actor}

    room.state.space.pinned = ("post-1", "post-2")
    change = partial(pinned_without, post_id="post-1")
    return Attempt(
        room.state, lambda: rules.set_pins(room.state, actor, room.clock(), change), check
    )


def case_leave(room: Room, actor: str) -> Attempt:
    def check(events: list[Event]) -> None:
        if actor == HOST:
            # The space waits for its host; their place on stage is kept.
            assert status(room.state) is SpaceStatus.LIVE
            assert room.role(HOST) is Role.HOST
            assert HOST in {p.account_id for p in room.state.stage()}
            assert types(events) == [EventType.HOST_ABSENT]
        else:
            assert not room.p(actor).present
            assert actor not in {p.account_id for p in room.state.stage()}
            assert types(events) == [EventType.PARTICIPANT_LEFT]

    return Attempt(room.state, lambda: rules.leave(room.state, actor, room.clock()), check)


CASES: dict[Action, dict[str, Case]] = {
    Action.START: {"start": case_start},
    Action.END: {"end": case_end},
    Action.EDIT: {"edit title": case_edit},
    Action.MANAGE_COHOSTS: {
        "make a speaker cohost": case_make_cohost("speaker"),
        "make a listener cohost": case_make_cohost("listener"),
        "make a cohost a speaker": case_demote_cohost("cohost"),
        "step down": case_demote_cohost("self"),
    },
    Action.INVITE: {
        "invite a listener": case_invite,
        "approve a raised hand": case_approve,
        "deny a raised hand": case_deny,
        "withdraw an invitation": case_withdraw,
    },
    Action.MOVE_TO_AUDIENCE: {
        k: case_to_audience(k) for k in ("self", "host", "cohost", "speaker")
    },
    Action.MUTE: {k: case_mute(k) for k in ("self", "host", "cohost", "speaker", "listener")},
    Action.UNMUTE: {"self": case_unmute},
    Action.REMOVE: {k: case_remove(k) for k in ("self", "host", "cohost", "speaker", "listener")},
    Action.RAISE_HAND: {"raise hand": case_raise_hand},
    Action.REACT: {"react": case_react},
    Action.LEAVE: {"leave": case_leave},
    Action.RECORD: {"record": case_record},
    Action.PIN: {"pin": case_pin, "unpin": case_unpin},
}


def table_cells() -> list[object]:
    """One test per cell of `PERMISSIONS` and case of `EXPECTED`; a cell nobody wrote an
    expectation for becomes a failing test rather than a silent gap."""
    params: list[object] = []
    for action, row in PERMISSIONS.items():
        for role in row:
            cases = EXPECTED.get(action, {}).get(role, {})
            if not cases:
                params.append(pytest.param(action, role, "", "", id=f"{action}-{role}-missing"))
            for case, outcome in cases.items():
                params.append(
                    pytest.param(action, role, case, outcome, id=f"{action}-{role}-{case}")
                )
    return params


@pytest.mark.parametrize(("action", "role", "case", "outcome"), table_cells())
def test_permission_table(action: Action, role: Role, case: str, outcome: str) -> None:
    assert case, f"no expectation written for {role} / {action}"
    room = live_room()
    actor = ACTOR[role]
    assert room.role(actor) is role
    attempt = CASES[action][case](room, actor)
    if outcome == OK:
        seq = attempt.state.space.seq
        events = attempt.act()
        assert events, "an allowed action that changes something tells the room"
        assert [e.seq for e in events] == list(range(seq + 1, seq + 1 + len(events)))
        assert attempt.state.space.seq == events[-1].seq
        attempt.check(events)
    else:
        error = refused(outcome, attempt.state, attempt.act)
        if outcome.endswith("_not_allowed") or outcome in FORBIDDEN_CODES:
            assert isinstance(error, Forbidden)
            assert error.status == 403
        else:
            assert isinstance(error, Conflict)
            assert error.status == 409


def test_every_action_and_role_has_written_expectations() -> None:
    assert set(EXPECTED) == set(Action) == set(PERMISSIONS)
    for action in Action:
        assert set(PERMISSIONS[action]) == set(Role), action
        assert set(EXPECTED[action]) == set(Role), action
        for role in Role:
            assert set(EXPECTED[action][role]) <= set(CASES[action]), (action, role)


def test_the_room_is_what_the_table_tests_assume() -> None:
    room = live_room()
    roles = {a: p.role for a, p in room.state.participants.items()}
    assert roles == {
        HOST: Role.HOST,
        C1: Role.COHOST,
        C2: Role.COHOST,
        S1: Role.SPEAKER,
        S2: Role.SPEAKER,
        L1: Role.LISTENER,
        L2: Role.LISTENER,
    }
    assert room.state.space.listener_count == 2
    assert len(room.state.stage()) == 5
    assert all(p.muted for p in room.state.participants.values())


@pytest.mark.parametrize("role", [Role.COHOST, Role.SPEAKER, Role.LISTENER])
def test_only_the_host_may_start_even_where_the_rules_cannot_ask(role: Role) -> None:
    # Before a space is live nobody but its host is in it, so `rules.start` never sees a cohost
    # or speaker; the table still says no.
    with pytest.raises(Forbidden) as caught:
        authorize(Action.START, role)
    assert caught.value.code == "start_not_allowed"


# --- people who are not (or no longer) in the space -----------------------------------------

STRANGER = "stranger"


def outsider_actions(room: Room, who: str) -> dict[str, Callable[[], object]]:
    s, now = room.state, room.clock()
    return {
        "end": lambda: rules.end(s, who, now),
        "edit": lambda: rules.edit(s, who, now, SpaceUpdated(title="Mine now")),
        "leave": lambda: rules.leave(s, who, now),
        "remove": lambda: rules.remove(s, who, S2, now),
        "raise_hand": lambda: stage.raise_hand(s, who, now),
        "lower_hand": lambda: stage.lower_hand(s, who, now),
        "invite": lambda: stage.add_speaker(s, who, L2, now),
        "accept": lambda: stage.accept_invitation(s, who, now),
        "decline": lambda: stage.decline_invitation(s, who, now),
        "to_audience": lambda: stage.to_audience(s, who, S2, now),
        "add_cohost": lambda: stage.add_cohost(s, who, S2, now),
        "remove_cohost": lambda: stage.remove_cohost(s, who, C2, now),
        "mute": lambda: stage.mute(s, who, S2, now),
        "unmute": lambda: stage.unmute(s, who, now),
        "react": lambda: stage.react(s, who, "👏", now),
        "record": lambda: rules.set_recording(s, who, True, now),
        "pin": lambda: rules.set_pins(s, who, now, partial(pinned_with, post_id="post-1")),
    }


OUTSIDER_ACTIONS = list(outsider_actions(live_room(), STRANGER))


@pytest.mark.parametrize("action", OUTSIDER_ACTIONS)
@pytest.mark.parametrize("who", ["never joined", "left", "removed"])
def test_someone_not_in_the_space_can_do_nothing_in_it(who: str, action: str) -> None:
    room = live_room()
    account = STRANGER
    if who == "left":
        account = L1
        rules.leave(room.state, L1, room.clock())
    elif who == "removed":
        account = S1
        rules.remove(room.state, HOST, S1, room.clock())
    error = refused("not_in_space", room.state, outsider_actions(room, account)[action])
    assert isinstance(error, Forbidden)


def test_the_host_who_stepped_away_may_still_end_their_space() -> None:
    room = live_room()
    rules.leave(room.state, HOST, room.clock())
    assert room.state.space.host_absent_since is not None  # the grace period runs
    ended = rules.end(room.state, HOST, room.clock())
    assert [e.type for e in ended][-1] is EventType.SPACE_ENDED
    assert room.state.space.state is SpaceStatus.ENDED


def test_nobody_can_start_a_space_that_is_already_live() -> None:
    room = live_room()
    refused("space_not_scheduled", room.state, lambda: rules.start(room.state, HOST, HOST, T0))


def test_actions_on_a_space_that_is_over_are_refused() -> None:
    room = live_room()
    rules.end(room.state, HOST, room.clock())
    s = room.state
    refused("space_not_live", s, lambda: rules.join(s, STRANGER, STRANGER, T0))
    refused("space_not_live", s, lambda: stage.react(s, L1, "👏", T0))
    refused("space_not_live", s, lambda: rules.leave(s, HOST, T0))
    refused("space_over", s, lambda: rules.end(s, HOST, T0))
    refused("space_over", s, lambda: rules.edit(s, HOST, T0, SpaceUpdated(title="Again")))


def test_targets_must_be_in_the_space() -> None:
    room = live_room()
    s = room.state
    refused("participant_not_found", s, lambda: stage.mute(s, HOST, STRANGER, T0))
    refused("participant_not_found", s, lambda: stage.add_speaker(s, HOST, STRANGER, T0))
    refused("participant_not_found", s, lambda: rules.remove(s, HOST, STRANGER, T0))
    error = refused("participant_not_found", s, lambda: stage.to_audience(s, HOST, STRANGER, T0))
    assert isinstance(error, NotFound)


def test_nobody_unmutes_anyone_but_themselves() -> None:
    # `unmute` takes no target at all: the only mic one can switch on is one's own.
    room = live_room()
    events = stage.unmute(room.state, S1, room.clock())
    assert [wire(e)["account_id"] for e in events] == [S1]
    assert not room.p(S1).muted
    assert all(room.p(a).muted for a in (HOST, C1, C2, S2))


def test_only_offered_reactions_are_sent() -> None:
    room = live_room()
    refused("invalid_reaction", room.state, lambda: stage.react(room.state, L1, "💩", T0))
    refused("invalid_reaction", room.state, lambda: stage.react(room.state, L1, "", T0))


def test_the_host_cannot_be_made_a_cohost() -> None:
    room = live_room()
    refused("already_host", room.state, lambda: stage.add_cohost(room.state, HOST, HOST, T0))


def test_someone_already_on_stage_is_not_invited() -> None:
    room = live_room()
    refused("already_on_stage", room.state, lambda: stage.add_speaker(room.state, C1, S2, T0))


# --- the stage limit and the cohost limit ---------------------------------------------------


def full_stage(size: int = 13) -> Room:
    """Host, two cohosts and speakers up to `size`; listeners l1, l2 (l2 invited earlier)."""
    room = Room(scheduled_space(Limits(stage_size=size, cohosts=2)), Clock())
    rules.start(room.state, HOST, HOST, room.clock())
    for who in (C1, C2, L1, L2):
        rules.join(room.state, who, who, room.clock())
    for who in (C1, C2):
        stage.add_cohost(room.state, HOST, who, room.clock())
    stage.add_speaker(room.state, HOST, L2, room.clock())  # invited before the stage filled
    n = 0
    while len(room.state.stage()) < size:
        who = f"speaker{n}"
        rules.join(room.state, who, who, room.clock())
        room.make_speaker(who)
        n += 1
    return room


def test_the_stage_holds_13_by_default() -> None:
    assert Limits().stage_size == 13
    assert Limits().cohosts == 2
    room = full_stage()
    assert len(room.state.stage()) == 13


def test_a_full_stage_takes_nobody_more() -> None:
    room = full_stage()
    s = room.state
    stage.raise_hand(s, L1, room.clock())
    refused("stage_full", s, lambda: stage.add_speaker(s, HOST, L1, T0))  # approve
    refused("stage_full", s, lambda: stage.add_speaker(s, C1, L1, T0))
    refused("stage_full", s, lambda: stage.accept_invitation(s, L2, T0))
    assert len(s.stage()) == 13


def test_a_full_stage_still_lets_people_change_places_on_it() -> None:
    room = full_stage(size=5)
    s = room.state
    stage.remove_cohost(s, HOST, C2, room.clock())
    stage.add_cohost(s, HOST, C2, room.clock())  # a speaker becoming cohost takes no new place
    assert room.role(C2) is Role.COHOST
    assert len(s.stage()) == 5


def test_a_place_freed_on_stage_can_be_taken() -> None:
    room = full_stage()
    s = room.state
    stage.to_audience(s, "speaker0", "speaker0", room.clock())
    stage.accept_invitation(s, L2, room.clock())
    assert room.role(L2) is Role.SPEAKER
    assert len(s.stage()) == 13
    stage.raise_hand(s, L1, room.clock())
    refused("stage_full", s, lambda: stage.add_speaker(s, HOST, L1, T0))


def test_a_listener_cannot_be_made_cohost_onto_a_full_stage() -> None:
    room = full_stage(size=4)
    s = room.state
    stage.remove_cohost(s, HOST, C2, room.clock())
    refused("stage_full", s, lambda: stage.add_cohost(s, HOST, L1, T0))


def test_the_absent_host_keeps_their_place_on_a_full_stage() -> None:
    room = full_stage(size=4)
    s = room.state
    stage.to_audience(s, "speaker0", "speaker0", room.clock())
    rules.leave(s, HOST, room.clock())
    stage.raise_hand(s, L1, room.clock())
    stage.add_speaker(s, C1, L1, room.clock())
    assert len(s.stage()) == 4
    refused("stage_full", s, lambda: stage.accept_invitation(s, L2, T0))
    rules.join(s, HOST, HOST, room.clock())
    assert room.role(HOST) is Role.HOST
    assert len(s.stage()) == 4


def test_at_most_two_cohosts() -> None:
    room = full_stage(size=13)
    refused("cohost_limit", room.state, lambda: stage.add_cohost(room.state, HOST, "speaker0", T0))


# --- speak_policy -------------------------------------------------------------------------


def test_everyone_may_ask_to_speak_by_default() -> None:
    room = live_room()
    stage.raise_hand(room.state, L1, room.clock())
    assert room.p(L1).hand_raised


def test_followed_policy_lets_only_people_the_host_follows_ask() -> None:
    room = live_room(policy=SpeakPolicy.FOLLOWED)
    s = room.state
    error = refused("speaking_for_followed_only", s, lambda: stage.raise_hand(s, L1, T0))
    assert isinstance(error, Forbidden)
    stage.raise_hand(s, L2, room.clock(), host_follows_actor=True)
    assert room.p(L2).hand_raised
    # The host and cohosts may still invite anyone.
    stage.add_speaker(s, HOST, L1, room.clock())
    stage.accept_invitation(s, L1, room.clock())
    assert room.role(L1) is Role.SPEAKER


def test_invited_policy_lets_nobody_ask() -> None:
    room = live_room(policy=SpeakPolicy.INVITED)
    s = room.state
    refused("speaking_by_invitation_only", s, lambda: stage.raise_hand(s, L1, T0))
    refused(
        "speaking_by_invitation_only",
        s,
        lambda: stage.raise_hand(s, L1, T0, host_follows_actor=True),
    )
    stage.add_speaker(s, C1, L1, room.clock())
    stage.accept_invitation(s, L1, room.clock())
    assert room.role(L1) is Role.SPEAKER


def test_speak_policy_does_not_open_hands_to_the_stage() -> None:
    room = live_room(policy=SpeakPolicy.EVERYONE)
    refused("raise_hand_not_allowed", room.state, lambda: stage.raise_hand(room.state, S1, T0))


# --- removal and blocks -------------------------------------------------------------------


@pytest.mark.parametrize("target", [L1, S1, C2])
def test_a_removed_participant_cannot_rejoin(target: str) -> None:
    room = live_room()
    s = room.state
    rules.remove(s, HOST, target, room.clock())
    refused("removed_from_space", s, lambda: rules.join(s, target, target, T0))
    # Not even much later, nor with the block flag clear: removal is for this space, for good.
    refused("removed_from_space", s, lambda: rules.join(s, target, target, T0 + timedelta(days=1)))
    assert not room.p(target).present


def test_someone_who_left_can_be_removed_and_then_cannot_come_back() -> None:
    room = live_room()
    s = room.state
    rules.leave(s, L1, room.clock())
    events = rules.remove(s, C1, L1, room.clock())
    assert types(events) == [EventType.PARTICIPANT_REMOVED]
    refused("removed_from_space", s, lambda: rules.join(s, L1, L1, T0))


def test_removing_counts_the_audience_right() -> None:
    room = live_room()
    s = room.state
    rules.remove(s, HOST, L1, room.clock())
    rules.remove(s, HOST, S1, room.clock())
    assert s.space.listener_count == 1
    assert events_count_listener(rules.join(s, STRANGER, STRANGER, room.clock())) == 2


def events_count_listener(events: list[Event]) -> int:
    counts = [wire(e)["listener_count"] for e in events if "listener_count" in wire(e)]
    return int(counts[-1])


def test_removing_twice_is_refused() -> None:
    room = live_room()
    s = room.state
    rules.remove(s, HOST, L1, room.clock())
    refused("participant_not_found", s, lambda: rules.remove(s, HOST, L1, T0))


def test_someone_the_host_blocked_cannot_join() -> None:
    room = live_room()
    s = room.state
    error = refused(
        "blocked_by_host", s, lambda: rules.join(s, STRANGER, STRANGER, T0, blocked_by_host=True)
    )
    assert isinstance(error, Forbidden)
    assert STRANGER not in s.participants


def test_a_removal_is_reported_before_a_block() -> None:
    room = live_room()
    s = room.state
    rules.remove(s, HOST, L1, room.clock())
    refused("removed_from_space", s, lambda: rules.join(s, L1, L1, T0, blocked_by_host=True))


def test_joining_twice_changes_nothing() -> None:
    room = live_room()
    before = copy.deepcopy(room.state)
    assert rules.join(room.state, L1, L1, room.clock()) == []
    assert room.state == before


def test_leaving_and_rejoining_puts_a_speaker_in_the_audience() -> None:
    room = live_room()
    s = room.state
    stage.unmute(s, S1, room.clock())
    rules.leave(s, S1, room.clock())
    events = rules.join(s, S1, S1, room.clock())
    assert room.role(S1) is Role.LISTENER
    assert room.p(S1).muted
    assert wire(events[-1])["role"] == "listener"
    assert s.space.listener_count == 3


# --- invitations --------------------------------------------------------------------------


def test_an_invited_listener_who_accepts_is_on_stage_muted() -> None:
    room = live_room()
    s = room.state
    events = stage.add_speaker(s, C1, L1, room.clock())
    assert types(events) == [EventType.SPEAKER_INVITED]
    assert room.role(L1) is Role.LISTENER
    events = stage.accept_invitation(s, L1, room.clock())
    assert types(events) == [EventType.ROLE_CHANGED]
    assert wire(events[0])["role"] == "speaker"
    assert wire(events[0])["muted"] is True
    assert room.role(L1) is Role.SPEAKER
    assert s.space.listener_count == 1
    refused("no_invitation", s, lambda: stage.accept_invitation(s, L1, T0))


def test_an_invited_listener_who_declines_stays_in_the_audience() -> None:
    room = live_room()
    s = room.state
    stage.add_speaker(s, HOST, L1, room.clock())
    events = stage.decline_invitation(s, L1, room.clock())
    assert types(events) == [EventType.INVITATION_DECLINED]
    assert room.role(L1) is Role.LISTENER
    assert not room.p(L1).invited
    refused("no_invitation", s, lambda: stage.accept_invitation(s, L1, T0))
    refused("no_invitation", s, lambda: stage.decline_invitation(s, L1, T0))


def test_nobody_accepts_an_invitation_they_did_not_get() -> None:
    room = live_room()
    refused("no_invitation", room.state, lambda: stage.accept_invitation(room.state, L1, T0))
    refused("no_invitation", room.state, lambda: stage.decline_invitation(room.state, L1, T0))


def test_inviting_twice_sends_one_invitation() -> None:
    room = live_room()
    stage.add_speaker(room.state, HOST, L1, room.clock())
    assert stage.add_speaker(room.state, C1, L1, room.clock()) == []


def test_an_invitation_does_not_survive_leaving() -> None:
    room = live_room()
    s = room.state
    stage.add_speaker(s, HOST, L1, room.clock())
    rules.leave(s, L1, room.clock())
    rules.join(s, L1, L1, room.clock())
    refused("no_invitation", s, lambda: stage.accept_invitation(s, L1, T0))


# --- the host's grace period and hand-over --------------------------------------------------


def test_a_host_who_comes_back_within_the_grace_period_is_still_host() -> None:
    room = live_room()
    s = room.state
    left_at = room.clock()
    rules.leave(s, HOST, left_at)
    assert rules.host_timeout(s, left_at + GRACE - timedelta(microseconds=1), GRACE) == []
    assert status(s) is SpaceStatus.LIVE
    events = rules.join(s, HOST, HOST, left_at + timedelta(seconds=30))
    assert types(events) == [EventType.HOST_RETURNED, EventType.PARTICIPANT_JOINED]
    assert room.role(HOST) is Role.HOST
    assert s.space.host_absent_since is None
    # The grace period is over for good: a late timer changes nothing.
    assert rules.host_timeout(s, left_at + GRACE * 2, GRACE) == []
    assert s.space.host_id == HOST


def test_after_the_grace_period_the_longest_serving_cohost_becomes_host() -> None:
    room = live_room()
    s = room.state
    assert room.p(C1).role_since < room.p(C2).role_since
    left_at = room.clock()
    rules.leave(s, HOST, left_at)
    events = rules.host_timeout(s, left_at + GRACE, GRACE)
    assert types(events) == [EventType.HOST_CHANGED]
    assert wire(events[0])["account_id"] == C1
    assert wire(events[0])["previous"] == HOST
    assert s.space.host_id == C1
    assert room.role(C1) is Role.HOST
    assert room.role(C2) is Role.COHOST
    assert [p.account_id for p in s.participants.values() if p.role is Role.HOST] == [C1]
    assert status(s) is SpaceStatus.LIVE
    # The new host has the host's powers; the old one comes back as a listener.
    stage.add_cohost(s, C1, S1, room.clock())
    rules.join(s, HOST, HOST, room.clock())
    assert room.role(HOST) is Role.LISTENER
    refused("end_not_allowed", s, lambda: rules.end(s, HOST, T0))
    rules.end(s, C1, room.clock())
    assert status(s) is SpaceStatus.ENDED


def test_the_cohost_who_became_cohost_first_inherits_not_the_first_to_join() -> None:
    room = live_room()
    s = room.state
    stage.remove_cohost(s, HOST, C1, room.clock())
    stage.add_cohost(s, HOST, C1, room.clock())  # C1 is now the newer cohost
    left_at = room.clock()
    rules.leave(s, HOST, left_at)
    rules.host_timeout(s, left_at + GRACE, GRACE)
    assert s.space.host_id == C2


def test_without_a_cohost_the_space_ends_after_the_grace_period() -> None:
    room = live_room()
    s = room.state
    for who in (C1, C2):
        stage.remove_cohost(s, HOST, who, room.clock())
    left_at = room.clock()
    rules.leave(s, HOST, left_at)
    events = rules.host_timeout(s, left_at + GRACE, GRACE)
    assert types(events) == [EventType.SPACE_ENDED]
    assert wire(events[0])["reason"] == "host_left"
    assert status(s) is SpaceStatus.ENDED
    assert not any(p.present for p in s.participants.values())
    refused("space_not_live", s, lambda: rules.join(s, HOST, HOST, T0))


def test_a_cohost_who_left_does_not_inherit() -> None:
    room = live_room()
    s = room.state
    rules.leave(s, C1, room.clock())
    left_at = room.clock()
    rules.leave(s, HOST, left_at)
    rules.host_timeout(s, left_at + GRACE, GRACE)
    assert s.space.host_id == C2


def test_while_the_host_is_away_nobody_else_can_end_or_target_them() -> None:
    room = live_room()
    s = room.state
    rules.leave(s, HOST, room.clock())
    refused("end_not_allowed", s, lambda: rules.end(s, C1, T0))
    refused("cannot_target_host", s, lambda: rules.remove(s, C1, HOST, T0))
    refused("participant_not_found", s, lambda: stage.mute(s, C1, HOST, T0))
    # Cohosts keep the room running meanwhile.
    stage.raise_hand(s, L1, room.clock())
    stage.add_speaker(s, C1, L1, room.clock())
    assert room.role(L1) is Role.SPEAKER


def test_host_timeout_does_nothing_while_the_host_is_there() -> None:
    room = live_room()
    before = copy.deepcopy(room.state)
    assert rules.host_timeout(room.state, T0 + timedelta(days=1), GRACE) == []
    assert room.state == before
