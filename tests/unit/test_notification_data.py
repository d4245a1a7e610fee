"""What each kind of notification carries, as clients read it: the keys a client of the web app
or the API has always been sent, and the same payload read back from what the store kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from parley.core.accounts import AccountState
from parley.core.moderation import AppealDecision, ReportStatus, ReportTarget
from parley.core.notifications import (
    CARRIES,
    AppealDecided,
    BotRestricted,
    Lifted,
    LimitSet,
    NotificationData,
    NotificationKind,
    PostRemoved,
    ReportResolved,
    SpaceNews,
    SpaceRemoved,
    StillLimited,
    notification_data,
    payload_of,
)

AT = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)

SENT: list[tuple[NotificationKind, NotificationData, dict[str, object]]] = [
    (
        NotificationKind.SPACE_LIVE,
        SpaceNews("s1", "Morning", "ada"),
        {"space_id": "s1", "title": "Morning", "host": "ada"},
    ),
    (
        NotificationKind.SPACE_LIVE,  # the host gone: still said, as nobody
        SpaceNews("s1", "Morning", None),
        {"space_id": "s1", "title": "Morning", "host": None},
    ),
    (
        NotificationKind.SPACE_LIVE,
        SpaceNews("s1", None, None, withheld=True),
        {"space_id": "s1", "title": None, "host": None, "withheld": True},
    ),
    (
        NotificationKind.SPACE_RESCHEDULED,
        SpaceNews("s1", "Morning", "ada", scheduled_start=AT),
        {"space_id": "s1", "title": "Morning", "host": "ada", "scheduled_start": AT.isoformat()},
    ),
    (
        NotificationKind.SPACE_CANCELLED,
        SpaceNews("s1", "Morning", "ada", reason="not_started"),
        {"space_id": "s1", "title": "Morning", "host": "ada", "reason": "not_started"},
    ),
    (NotificationKind.UNSUSPENDED, Lifted("Served"), {"reason": "Served"}),
    (NotificationKind.UNLIMITED, Lifted("Served", bot="jet"), {"reason": "Served", "bot": "jet"}),
    (
        NotificationKind.UNSUSPENDED,  # over a limit without an end: `until` is said, as null
        StillLimited("Served", still_limited=True, until=None),
        {"reason": "Served", "still_limited": True, "until": None},
    ),
    (
        NotificationKind.LIMITED,
        LimitSet("n1", "spam", None),
        {"notice_id": "n1", "rule": "spam", "until": None},
    ),
    (
        NotificationKind.BOT_RESTRICTED,
        BotRestricted("jet", AccountState.SUSPENDED, "n1", "spam", AT),
        {
            "bot": "jet",
            "state": "suspended",
            "notice_id": "n1",
            "rule": "spam",
            "until": AT.isoformat(),
        },
    ),
    (
        NotificationKind.REPORT_RESOLVED,
        ReportResolved("r1", ReportTarget.POST, ReportStatus.ACTIONED, "spam"),
        {"report_id": "r1", "target_type": "post", "status": "actioned", "rule": "spam"},
    ),
    (
        NotificationKind.APPEAL_DECIDED,
        AppealDecided("a1", AppealDecision.OVERTURNED, "A mistake"),
        {"appeal_id": "a1", "decision": "overturned", "reason": "A mistake"},
    ),
    (
        NotificationKind.POST_REMOVED,
        PostRemoved("p1", "n1", "spam", bot="jet"),
        {"post_id": "p1", "notice_id": "n1", "rule": "spam", "bot": "jet"},
    ),
    (
        NotificationKind.RECORDING_REMOVED,
        SpaceRemoved("s1", "n1", "harassment"),
        {"space_id": "s1", "notice_id": "n1", "rule": "harassment"},
    ),
]


@pytest.mark.parametrize(("kind", "payload", "wire"), SENT)
def test_each_payload_is_sent_as_clients_read_it_and_read_back_as_it_was(
    kind: NotificationKind, payload: NotificationData, wire: dict[str, object]
) -> None:
    sent = notification_data(payload)
    assert sent == wire
    kept = json.loads(json.dumps(sent))  # as the store's JSON column gives it back
    assert payload_of(kind, kept) == payload


def test_a_space_live_written_before_notifications_named_the_host_reads_as_told_by_nobody() -> None:
    older = {"space_id": "s1", "title": "Morning"}
    assert payload_of(NotificationKind.SPACE_LIVE, older) == SpaceNews("s1", "Morning", None)


def test_every_kind_says_what_it_carries() -> None:
    assert set(CARRIES) == set(NotificationKind)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (NotificationKind.LIMITED, {"notice_id": "n1", "rule": "spam"}),  # `until` missing
        (NotificationKind.LIMITED, {"notice_id": 7, "rule": "spam", "until": None}),
        (NotificationKind.POST_REMOVED, {"space_id": "s1", "notice_id": "n1", "rule": "spam"}),
        (
            NotificationKind.REPORT_RESOLVED,
            {"report_id": "r1", "target_type": "planet", "status": "actioned", "rule": "spam"},
        ),
        # A kind whose payload is never "still limited".
        (NotificationKind.LIMITED, {"reason": "x", "still_limited": True, "until": None}),
    ],
)
def test_data_of_another_shape_is_not_read_as_the_kind(
    kind: NotificationKind, data: dict[str, object]
) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        payload_of(kind, data)
