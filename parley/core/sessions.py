"""When a session stops being good: idle too long, too old, or an appeal token past its hour.

Pure rules on times; the account service reads the session and asks these with `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SessionEnd(StrEnum):
    """Why a session's sockets are closed (the `code` of the error message they get)."""

    REVOKED = "session_revoked"
    EXPIRED = "session_expired"
    DEACTIVATED = "account_deactivated"  # all of them: the account was deleted


@dataclass(frozen=True)
class SessionPolicy:
    # Unused this long: expired (sliding; each use moves it).
    idle: timedelta
    # Older than this: expired however often it is used.
    lifetime: timedelta
    # What a suspended account's refused sign-in gets is good only this long.
    appeal_lifetime: timedelta
    # "Last used" is written at most this often per session, not on every request.
    touch_every: timedelta


@dataclass(frozen=True)
class SessionTimes:
    created_at: datetime
    last_used_at: datetime
    appeal_only: bool


def expires_at(policy: SessionPolicy, session: SessionTimes) -> datetime:
    if session.appeal_only:
        return session.created_at + policy.appeal_lifetime
    return min(session.created_at + policy.lifetime, session.last_used_at + policy.idle)


def expired(policy: SessionPolicy, session: SessionTimes, now: datetime) -> bool:
    return now >= expires_at(policy, session)


def surely_live(policy: SessionPolicy, now: datetime) -> tuple[datetime, datetime]:
    """(last used, created) bounds: an unrevoked session, not appeal-only, used since the
    first and created since the second has not expired. Lets a check of thousands of sessions
    read back only the few that may have ended (and the rare appeal-only ones)."""
    return now - policy.idle, now - policy.lifetime


def needs_touch(policy: SessionPolicy, session: SessionTimes, now: datetime) -> bool:
    """Whether this use should be written down. A use within `touch_every` of the last one
    written is not, so the idle limit is honoured to within that much."""
    return now - session.last_used_at >= policy.touch_every
