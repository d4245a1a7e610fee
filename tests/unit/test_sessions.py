"""Session expiry rules (parley/core/sessions.py): idle, lifetime, appeal tokens, touches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.sessions import SessionPolicy, SessionTimes, expired, expires_at, needs_touch

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
