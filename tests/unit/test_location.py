"""The location rules alone: a place's bounds, and the policy's delay to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.core.errors import Invalid
from parley.core.location import (
    NO_DELAY,
    LocationTooRecent,
    Place,
    check_place,
    clean_place,
    held_until,
    policy,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def at(observed_at: datetime, latitude: float = 0.0, longitude: float = 0.0) -> Place:
    return Place(latitude, longitude, observed_at, " N628TS ")


def test_a_place_is_cleaned_to_utc_and_a_stripped_label() -> None:
    cleaned = clean_place(at(NOW.astimezone(UTC) - timedelta(minutes=5)), NOW)
    assert cleaned.label == "N628TS"
    assert cleaned.observed_at.tzinfo is UTC


@pytest.mark.parametrize(
    "bad",
    [
        at(NOW, latitude=float("nan")),
        at(NOW, latitude=90.000001),
        at(NOW, longitude=float("inf")),
        at(NOW, longitude=-180.5),
        at(NOW + timedelta(minutes=3)),
        at(NOW.replace(tzinfo=None)),
    ],
)
def test_bad_places_are_refused(bad: Place) -> None:
    with pytest.raises(Invalid) as refused:
        clean_place(bad, NOW)
    assert refused.value.code == "invalid_place"


def test_the_delay_counts_from_observation_to_the_second() -> None:
    day = policy(86_400, "aircraft-positions", "People are on board")
    seen = NOW - timedelta(hours=1)
    with pytest.raises(LocationTooRecent) as refused:
        check_place(day, at(seen), NOW)
    assert refused.value.code == "location_too_recent"
    assert refused.value.policy.rule == "aircraft-positions"
    assert refused.value.publish_after == seen + timedelta(days=1)
    check_place(day, at(seen), seen + timedelta(days=1))
    check_place(NO_DELAY, at(NOW + timedelta(minutes=1)), NOW)


def test_a_held_place_waits_until_the_delay_has_passed_and_not_a_second_more() -> None:
    day = policy(86_400, "aircraft-positions", "People are on board")
    seen = NOW - timedelta(hours=1)
    assert held_until(day, at(seen), NOW) == seen + timedelta(days=1)
    assert held_until(day, at(seen), seen + timedelta(days=1) - timedelta(seconds=1)) is not None
    assert held_until(day, at(seen), seen + timedelta(days=1)) is None
    assert held_until(NO_DELAY, at(NOW + timedelta(minutes=1)), NOW) is None


def test_a_policy_with_a_delay_needs_a_rule_and_a_reason() -> None:
    assert policy(0, "", "").delay == timedelta(0)
    for delay, rule, reason, code in [
        (-1, "r", "why", "invalid_delay"),
        (86_400, "", "why", "invalid_rule"),
        (86_400, "r", " ", "invalid_reason"),
    ]:
        with pytest.raises(Invalid) as refused:
            policy(delay, rule, reason)
        assert refused.value.code == code
