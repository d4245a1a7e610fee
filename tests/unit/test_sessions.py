"""Session expiry rules (parley/core/sessions.py): idle, lifetime, appeal tokens, touches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from parley.core.sessions import (
    SessionPolicy,
    SessionTimes,
    expired,
    expires_at,
    needs_touch,
    surely_live,
)

POLICY = SessionPolicy(
    idle=timedelta(days=30),
    lifetime=timedelta(days=90),
    appeal_lifetime=timedelta(hours=1),
    touch_every=timedelta(minutes=5),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_session_ends_at_its_idle_limit_or_its_lifetime_whichever_comes_first() -> None:
    fresh = SessionTimes(T0, T0, appeal_only=False)
    assert expires_at(POLICY, fresh) == T0 + timedelta(days=30)
    assert not expired(POLICY, fresh, T0 + timedelta(days=30) - timedelta(seconds=1))
    assert expired(POLICY, fresh, T0 + timedelta(days=30))
    used_lately = SessionTimes(T0, T0 + timedelta(days=80), appeal_only=False)
    assert expires_at(POLICY, used_lately) == T0 + timedelta(days=90)


def test_an_appeal_token_lives_an_hour_however_it_is_used() -> None:
    appeal = SessionTimes(T0, T0 + timedelta(minutes=59), appeal_only=True)
    assert expires_at(POLICY, appeal) == T0 + timedelta(hours=1)


def test_a_use_is_written_down_only_every_few_minutes() -> None:
    session = SessionTimes(T0, T0, appeal_only=False)
    assert not needs_touch(POLICY, session, T0 + timedelta(minutes=4))
    assert needs_touch(POLICY, session, T0 + timedelta(minutes=5))


@given(
    created_ago=st.integers(min_value=0, max_value=100 * 24 * 3600),
    used_ago=st.integers(min_value=0, max_value=100 * 24 * 3600),
)
def test_a_session_inside_the_sweeps_bounds_has_not_expired(
    created_ago: int, used_ago: int
) -> None:
    """The sweep reads back only sessions outside `surely_live`'s bounds (and every
    appeal-only one): none inside may have expired."""
    now = datetime(2026, 12, 3, tzinfo=UTC)
    created = now - timedelta(seconds=created_ago)
    times = SessionTimes(created, max(created, now - timedelta(seconds=used_ago)), False)
    used_since, created_since = surely_live(POLICY, now)
    if times.last_used_at >= used_since and times.created_at >= created_since:
        assert not expired(POLICY, times, now)
