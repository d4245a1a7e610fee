"""Small helpers every service uses: ids, the clock, token hashing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from parley.core.tokens import TOKEN_PREFIX as API_TOKEN_PREFIX


def new_id() -> str:
    """A random, URL-safe, unguessable identifier."""
    return secrets.token_hex(8)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_session_token() -> str:
    """A session's bearer token, never one that reads as an API token: one that began with
    `pt_` (one random token in 262,144) was looked up among API tokens and refused, 401 to a
    signed-in account (it failed a 5,000-account join benchmark)."""
    while (token := new_token()).startswith(API_TOKEN_PREFIX):
        pass
    return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utcnow() -> datetime:
    """The system's time: the node clock's source, and nothing else's."""
    return datetime.now(UTC)


# How a service reads the time: the node's clock (`NodeClock.now`), which tests move.
Clock = Callable[[], datetime]


class NodeClock:
    """The one clock a node's services read the time from. Tests move it (`advance`) to see
    what time does (sessions expiring, a host's grace period running out, suspensions ending)
    without waiting for it."""

    def __init__(self, source: Clock = utcnow) -> None:
        self._source = source
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        """Aware UTC."""
        return self._source() + self.ahead

    def wall(self) -> float:
        """The same time as seconds since the epoch (what the rate limits count in)."""
        return self.now().timestamp()

    def advance(self, by: timedelta) -> None:
        self.ahead += by
