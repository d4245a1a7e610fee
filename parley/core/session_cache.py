"""A node's memory of sessions it has recently authenticated, so a request does not read the
database for its bearer token every time.

Pure: the caller passes `now`. Entries are keyed by the token's hash (the token itself is never
kept), live at most `ttl`, and are dropped by session or by account when the bus says a session
ended or an account was suspended (core/expiring_cache.py: a fill that raced a drop is refused).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parley.core.accounts import Account
from parley.core.expiring_cache import RecordCache
from parley.core.sessions import SessionTimes


@dataclass(frozen=True)
class CachedSession:
    session_id: str
    account: Account
    times: SessionTimes


class SessionCache(RecordCache[str, CachedSession]):
    def __init__(self, ttl: timedelta, capacity: int = 100_000) -> None:
        super().__init__(ttl, capacity)

    def put(
        self,
        token_hash: str,
        session_id: str,
        account: Account,
        times: SessionTimes,
        now: datetime,
        *,
        generation: int,
    ) -> None:
        """Remember a session read from the store while `generation` was current."""
        cached = CachedSession(session_id, account, times)
        self._memory.put(token_hash, cached, now, generation=generation)

    def touched(self, token_hash: str, now: datetime) -> None:
        """The session's last use was just written down."""
        self._memory.change(
            token_hash, lambda e: replace(e, times=replace(e.times, last_used_at=now))
        )

    def forget_sessions(self, session_ids: Collection[str]) -> None:
        self._forget_among(session_ids, lambda e: e.session_id)

    def forget_accounts(self, account_ids: Collection[str]) -> None:
        self._forget_among(account_ids, lambda e: e.account.id)

    def account_ids(self) -> set[str]:
        return {e.account.id for e in self._memory.values()}

    def session_ids(self) -> set[str]:
        return {e.session_id for e in self._memory.values()}
