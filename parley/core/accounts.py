"""Rules for accounts and what they write: handles, profiles, posts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parley.core.errors import Invalid
from parley.core.instants import utc_instant

HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
DISPLAY_NAME_MAX = 50
BIO_MAX = 160
POST_MAX = 280
PASSWORD_MIN = 8
PASSWORD_MAX = 256


class AccountState(StrEnum):
    ACTIVE = "active"
    LIMITED = "limited"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


def check_handle(handle: str) -> str:
    if not HANDLE_RE.fullmatch(handle):
        raise Invalid("invalid_handle", "A handle has 1 to 15 letters, digits or underscores")
    return handle


def handle_key(handle: str) -> str:
    """Handles are unique without regard to case."""
    return handle.lower()


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Invalid(
            "invalid_password", f"A password has {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )
    return password


def clean_display_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        raise Invalid(
            "invalid_display_name", f"A display name has 1 to {DISPLAY_NAME_MAX} characters"
        )
    return name


def clean_bio(bio: str) -> str:
    bio = bio.strip()
    if len(bio) > BIO_MAX:
        raise Invalid("invalid_bio", f"A bio has at most {BIO_MAX} characters")
    return bio


def clean_post(text: str) -> str:
    text = text.strip()
    if not 1 <= len(text) <= POST_MAX:
        raise Invalid("invalid_post", f"A post has 1 to {POST_MAX} characters")
    return text


@dataclass(frozen=True)
class Account:
    id: str
    handle: str
    display_name: str
    bio: str
    state: AccountState
    is_admin: bool
    created_at: datetime

    def public(self) -> dict[str, str]:
        return {"id": self.id, "handle": self.handle, "display_name": self.display_name}


@dataclass(frozen=True)
class Post:
    id: str
    author: Account
    text: str
    created_at: datetime


def clean_cursor(before: datetime | None) -> datetime | None:
    """A `before` paging cursor: an instant with its time zone, which must exist in UTC."""
    if before is None:
        return None
    return utc_instant(before, code="invalid_before", field="before")
