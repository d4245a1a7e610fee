"""Bus messages: every kind survives encoding, on the channel it belongs to, and the wire format
is the one nodes of the previous version speak (they may share a bus during an upgrade)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.bus.messages import (
    ACCOUNTS_CHANNEL,
    LINKS_CHANNEL,
    NODES_CHANNEL,
    AccountSuspended,
    DrainNode,
    KeptOut,
    LinkRuleAdded,
    LinkRuleRemoved,
    LiveCaption,
    Message,
    ParticipantGone,
    SessionsEnded,
    SpaceOver,
    UnknownEvent,
    channel_of,
    decode,
    encode,
    space_channel,
    stage_effect,
)
from parley.core.captions import Caption
from parley.core.links.rules import Decision, LinkRule, MatchKind
from parley.core.sessions import SessionEnd
from parley.core.spaces import events as payloads
from parley.core.spaces.event_wire import PAYLOADS, to_wire
from parley.core.spaces.events import (
    Event,
    EventData,
    EventType,
    ParticipantLeft,
    ParticipantRemoved,
    Reacted,
    SpaceCancelled,
    SpaceEnded,
)
from parley.core.spaces.model import Role

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

ids = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
id_tuples = st.lists(ids, max_size=4).map(tuple)
instants = st.datetimes(timezones=st.just(UTC))
link_rules = st.builds(
    LinkRule,
    id=ids,
    match=st.sampled_from(MatchKind),
    pattern=ids,
    verdict=st.sampled_from([Decision.WARN, Decision.BLOCK]),
    rule=ids,
    reason=ids,
)


# Times of captions: seconds, never NaN nor infinite (JSON has neither).
seconds = st.floats(allow_nan=False, allow_infinity=False)


def _payload(cls: type[EventData]) -> st.SearchStrategy[EventData]:
    if cls is payloads.Captioned:
        return st.builds(cls, start=seconds, end=seconds)
    return st.builds(cls)


# Every type of event, with any values its payload's fields take.
space_events = st.builds(
    Event,
    ids,
    st.integers(min_value=0, max_value=2**62),
    instants,
    st.sampled_from(list(PAYLOADS.values())).flatmap(_payload),
)

unknown_events = st.builds(
    lambda space_id, seq, kind: UnknownEvent(
        space_id, seq, json.dumps({"seq": seq, "type": kind, "at": AT.isoformat(), "data": {}})
    ),
    ids,
    st.integers(min_value=0, max_value=2**62),
    ids.filter(lambda kind: kind not in set(EventType)),
)

messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(AccountSuspended, ids),
    st.builds(SessionsEnded, ids, id_tuples, st.sampled_from(SessionEnd)),
    st.builds(KeptOut, ids, id_tuples),
    st.builds(LinkRuleAdded, link_rules),
    st.builds(LinkRuleRemoved, ids),
    st.builds(DrainNode, ids),
    space_events,
    unknown_events,
    st.builds(LiveCaption, ids, st.builds(Caption, start=seconds, end=seconds)),
)


@given(messages)
def test_every_message_decodes_to_itself(message: Message) -> None:
    assert decode(channel_of(message), encode(message)) == message


@given(space_events)
def test_a_space_event_is_sent_to_sockets_as_api_md_shapes_it(event: Event) -> None:
    assert json.loads(encode(event)) == to_wire(event)
    assert channel_of(event) == space_channel(event.space_id)


RULE = LinkRule("r1", MatchKind.HOST, "evil.example", Decision.BLOCK, "spam", "why")


@pytest.mark.parametrize(
    ("message", "channel", "wire"),
    [
        (AccountSuspended("a"), ACCOUNTS_CHANNEL, {"type": "suspended", "account_id": "a"}),
        (
            SessionsEnded("a", ("s1", "s2"), SessionEnd.REVOKED),
            ACCOUNTS_CHANNEL,
            {
                "type": "sessions_ended",
                "account_id": "a",
                "session_ids": ["s1", "s2"],
                "why": "session_revoked",
            },
        ),
        (
            KeptOut("a", ("x",)),
            ACCOUNTS_CHANNEL,
            {"type": "kept_out", "account_id": "a", "space_ids": ["x"]},
        ),
        (
            LinkRuleAdded(RULE),
            LINKS_CHANNEL,
            {
                "type": "added",
                "rule": {
                    "id": "r1",
                    "match": "host",
                    "pattern": "evil.example",
                    "verdict": "block",
                    "rule": "spam",
                    "reason": "why",
                },
            },
        ),
        (LinkRuleRemoved("r1"), LINKS_CHANNEL, {"type": "removed", "id": "r1"}),
        (DrainNode("node-a"), NODES_CHANNEL, {"type": "drain", "node_id": "node-a"}),
        (
            LiveCaption("sp", Caption("a", "so far", False, 1.5, 2.25)),
            "space:sp",
            {
                "type": "caption",
                "data": {
                    "speaker": "a",
                    "text": "so far",
                    "final": False,
                    "start": 1.5,
                    "end": 2.25,
                },
            },
        ),
        (
            Event("sp", 7, AT, Reacted("a", "ann", "👏")),
            "space:sp",
            {
                "seq": 7,
                "type": "reaction",
                "at": AT.isoformat(),
                "data": {"account_id": "a", "handle": "ann", "emoji": "👏"},
            },
        ),
    ],
)
def test_the_wire_format_is_the_previous_versions(
    message: Message, channel: str, wire: dict[str, Any]
) -> None:
    assert channel_of(message) == channel
    assert json.loads(encode(message)) == wire
    assert decode(channel, json.dumps(wire)) == message


def test_seconds_written_as_whole_numbers_are_read_as_seconds() -> None:
    text = '{"type": "caption", "data": {"speaker": "a", "text": "hi", "final": true,'
    text += ' "start": 2, "end": 3}}'
    assert decode("space:sp", text) == LiveCaption("sp", Caption("a", "hi", True, 2.0, 3.0))


@pytest.mark.parametrize(
    ("channel", "text"),
    [
        (ACCOUNTS_CHANNEL, '{"type": "promoted", "account_id": "a"}'),
        (LINKS_CHANNEL, '{"type": "renamed", "id": "r1"}'),
        (NODES_CHANNEL, '{"type": "restart", "node_id": "a"}'),
        ("elsewhere", '{"type": "suspended", "account_id": "a"}'),
    ],
)
def test_a_kind_from_a_newer_node_is_ignored_and_logged(
    channel: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="parley.bus.messages"):
        assert decode(channel, text) is None
    assert "does not know" in caplog.text


def test_a_space_event_from_a_newer_node_is_kept_for_the_sockets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = '{"seq": 3, "type": "poll_opened", "at": "2026-01-01T00:00:00+00:00", "data": {}}'
    with caplog.at_level(logging.INFO, logger="parley.bus.messages"):
        assert decode("space:sp", text) == UnknownEvent("sp", 3, text)
    assert "passing on" in caplog.text


@pytest.mark.parametrize(
    ("channel", "text"),
    [
        (ACCOUNTS_CHANNEL, "not json"),
        (ACCOUNTS_CHANNEL, "[1]"),
        (ACCOUNTS_CHANNEL, '{"type": "suspended"}'),
        (ACCOUNTS_CHANNEL, '{"type": "kept_out", "account_id": "a", "space_ids": "x"}'),
        (
            ACCOUNTS_CHANNEL,
            '{"type": "sessions_ended", "account_id": "a", "session_ids": [], "why": "bored"}',
        ),
        (LINKS_CHANNEL, '{"type": "added", "rule": {"id": "r"}}'),
        ("space:sp", '{"seq": "3", "type": "reaction", "at": "2026-01-01T00:00:00+00:00"}'),
        ("space:sp", '{"seq": 3, "type": "reaction", "at": "yesterday"}'),
        (
            "space:sp",
            '{"seq": 3, "type": "mic_changed", "at": "2026-01-01T00:00:00+00:00",'
            ' "data": {"muted": true}}',
        ),
        (
            "space:sp",
            '{"type": "caption", "data": {"speaker": "a", "text": 3, "final": false,'
            ' "start": 1, "end": 2}}',
        ),
        ("space:sp", '{"type": "caption", "data": "so far"}'),
    ],
)
def test_a_malformed_message_is_ignored_and_logged(
    channel: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="parley.bus.messages"):
        assert decode(channel, text) is None
    assert "malformed" in caplog.text


@pytest.mark.parametrize(
    ("data", "effect"),
    [
        (SpaceEnded("ended", AT), SpaceOver()),
        (SpaceCancelled("ended"), SpaceOver()),
        (ParticipantLeft("a", "ann", "left", 2), ParticipantGone("a", removed=False)),
        (ParticipantRemoved("a", "ann", "b", "removed", 2), ParticipantGone("a", removed=True)),
        (Reacted("a", "ann", "👏"), None),
    ],
)
def test_what_an_event_means_for_the_stage(data: EventData, effect: object) -> None:
    assert stage_effect(Event("sp", 1, AT, data)) == effect


@pytest.mark.parametrize(
    "data",
    [
        payloads.RoleChanged("a", "ann", Role.SPEAKER, Role.LISTENER, False, 3),
        payloads.MicChanged("a", "ann", True, "b"),
    ],
)
def test_a_role_or_microphone_change_means_what_it_says(data: EventData) -> None:
    assert stage_effect(Event("sp", 1, AT, data)) is data
