"""A node's memory of sessions it has recently authenticated, so a request does not read the
database for its bearer token every time.

Pure: the caller passes `now`. Entries are keyed by the token's hash (the token itself is never
kept), live at most `ttl`, and are dropped by session or by account when the bus says a session
ended or an account was suspended. A fill that raced such a drop is refused: every drop bumps
`generation`, and `put` only stores what was read under the generation it names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from parley.core.accounts import Account
from parley.core.sessions import SessionTimes


@dataclass(frozen=True)
class CachedSession:
    session_id: str
    account: Account
    times: SessionTimes
    stored_at: datetime


class SessionCache:
    def __init__(self, ttl: timedelta, capacity: int = 100_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.generation = 0
        self._by_hash: dict[str, CachedSession] = {}

    def __len__(self) -> int:
        return len(self._by_hash)

    def get(self, token_hash: str, now: datetime) -> CachedSession | None:
        entry = self._by_hash.get(token_hash)
        if entry is None:
            return None
        # A clock moved back (tests do) leaves an entry from "the future": still fresh.
        if now - entry.stored_at >= self.ttl:
            del self._by_hash[token_hash]
            return None
        return entry

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
        """Remember a session read from the store while `generation` was current; nothing is
        kept if anything was dropped since (the read may predate a suspension)."""
        if generation != self.generation or self.ttl <= timedelta(0):
            return
        if len(self._by_hash) >= self.capacity:
            # Oldest first (dicts keep insertion order): a full cache sheds its stalest entry.
            del self._by_hash[next(iter(self._by_hash))]
        self._by_hash[token_hash] = CachedSession(session_id, account, times, now)

    def touched(self, token_hash: str, now: datetime) -> None:
        """The session's last use was just written down."""
        entry = self._by_hash.get(token_hash)
        if entry is not None:
            self._by_hash[token_hash] = replace(entry, times=replace(entry.times, last_used_at=now))

    def forget_sessions(self, session_ids: Collection[str]) -> None:
        if session_ids:
            self.generation += 1
            self._drop(lambda e: e.session_id in session_ids)

    def forget_accounts(self, account_ids: Collection[str]) -> None:
        if account_ids:
            self.generation += 1
            self._drop(lambda e: e.account.id in account_ids)

    def account_ids(self) -> set[str]:
        return {e.account.id for e in self._by_hash.values()}

    def session_ids(self) -> set[str]:
        return {e.session_id for e in self._by_hash.values()}

    def _drop(self, which: Callable[[CachedSession], bool]) -> None:
        for key in [k for k, e in self._by_hash.items() if which(e)]:
            del self._by_hash[key]
