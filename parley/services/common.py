"""Small helpers every service uses: ids, the clock, token hashing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime


def new_id() -> str:
    """A random, URL-safe, unguessable identifier."""
    return secrets.token_hex(8)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


# Where time-dependent services read the time; tests pass one they can move.
Clock = Callable[[], datetime]
