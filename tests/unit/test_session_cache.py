"""The node's session cache: what it keeps, for how long, and what empties it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.accounts import Account, AccountState
from parley.core.session_cache import SessionCache
from parley.core.sessions import SessionTimes

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIMES = SessionTimes(T0, T0, appeal_only=False)


def account(account_id: str) -> Account:
    return Account(
        id=account_id,
        handle=account_id,
        display_name=account_id,
        bio="",
        state=AccountState.ACTIVE,
        is_admin=False,
        created_at=T0,
    )


def filled(*entries: tuple[str, str, str]) -> SessionCache:
    cache = SessionCache(timedelta(seconds=30))
    for key, session_id, account_id in entries:
        cache.put(key, session_id, account(account_id), TIMES, T0, generation=cache.generation)
    return cache


def test_an_entry_is_answered_until_its_time_runs_out() -> None:
    cache = filled(("h1", "s1", "ada"))
    hit = cache.get("h1", T0 + timedelta(seconds=29))
    assert hit is not None and hit.session_id == "s1" and hit.account.id == "ada"
    assert cache.get("h1", T0 + timedelta(seconds=30)) is None
    assert cache.get("h1", T0) is None  # gone, not only stale
    assert cache.get("unknown", T0) is None


def test_ending_a_session_or_suspending_an_account_empties_their_entries() -> None:
    cache = filled(("h1", "s1", "ada"), ("h2", "s2", "ada"), ("h3", "s3", "bob"))
    cache.forget_sessions({"s1"})
    assert cache.get("h1", T0) is None and cache.get("h2", T0) is not None
    cache.forget_accounts({"ada"})
    assert cache.get("h2", T0) is None
    assert cache.get("h3", T0) is not None
    assert cache.account_ids() == {"bob"} and cache.session_ids() == {"s3"}


def test_a_read_that_raced_a_suspension_is_not_kept() -> None:
    cache = SessionCache(timedelta(seconds=30))
    read_under = cache.generation  # the session is read from the store...
    cache.forget_accounts({"ada"})  # ...the bus says ada was suspended meanwhile...
    cache.put("h1", "s1", account("ada"), TIMES, T0, generation=read_under)
    assert cache.get("h1", T0) is None  # ...so what was read is not remembered
    cache.forget_accounts(set())  # nothing to forget: fills in flight are not spoiled
    cache.put("h1", "s1", account("ada"), TIMES, T0, generation=cache.generation)
    assert cache.get("h1", T0) is not None


def test_a_use_written_down_moves_the_cached_last_use_and_a_full_cache_sheds_the_oldest() -> None:
    cache = filled(("h1", "s1", "ada"))
    cache.touched("h1", T0 + timedelta(seconds=5))
    hit = cache.get("h1", T0)
    assert hit is not None and hit.times.last_used_at == T0 + timedelta(seconds=5)
    small = SessionCache(timedelta(seconds=30), capacity=2)
    for i in range(3):
        small.put(f"h{i}", f"s{i}", account("ada"), TIMES, T0, generation=small.generation)
    assert small.get("h0", T0) is None and len(small) == 2


def test_a_ttl_of_zero_keeps_nothing() -> None:
    cache = SessionCache(timedelta(0))
    cache.put("h1", "s1", account("ada"), TIMES, T0, generation=cache.generation)
    assert cache.get("h1", T0) is None
