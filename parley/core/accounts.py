"""Rules for accounts and what they write: handles, profiles, posts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from parley.core.errors import Conflict, Forbidden, Invalid
from parley.core.instants import utc_instant
from parley.core.text import bounded_text, has_control_or_bidi_override, has_visible_character

if TYPE_CHECKING:
    from parley.core.actors import Actor
    from parley.core.location import Place

HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
DISPLAY_NAME_MAX = 50
BIO_MAX = 160
POST_MAX = 280
PASSWORD_MIN = 8
PASSWORD_MAX = 256


class AccountState(StrEnum):
    ACTIVE = "active"
    # A moderator's limit: it may sign in, listen and read, never post, host, speak or react.
    LIMITED = "limited"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"

    @property
    def withdrawn(self) -> bool:
        """Whether what the account made is kept from everyone (its spaces' pages, live audio and
        replays): while it is suspended, and for good once it is deactivated."""
        return self in WITHDRAWN_STATES


WITHDRAWN_STATES = frozenset({AccountState.SUSPENDED, AccountState.DEACTIVATED})


class Departure(StrEnum):
    """Why an account leaves every space it is in at once and for good, as the spaces' events
    say it (`ParticipantRemoved.reason`; a host's space ends or passes on as `host_<this>`)."""

    SUSPENDED = "suspended"  # by moderation
    DEACTIVATED = "deactivated"  # by its owner: a person deleting their account, or a bot's

    @property
    def host_reason(self) -> str:
        return f"host_{self.value}"


def check_handle(handle: str) -> str:
    if not HANDLE_RE.fullmatch(handle):
        raise Invalid("invalid_handle", "A handle has 1 to 15 letters, digits or underscores")
    return handle


# Names people read as the platform speaking: nobody signs up as them (an operator can still
# create them from the command line). `mod` is left free: it is an ordinary nickname.
RESERVED_HANDLES = frozenset(
    {
        "abuse", "admin", "administrator", "anonymous", "api", "everyone", "help", "here",
        "hostmaster", "info", "me", "moderation", "moderator", "moderators", "noreply", "null",
        "official", "postmaster", "root", "safety", "security", "staff", "support", "system",
        "trust", "trustandsafety", "undefined", "verified", "webmaster", "www",
    }
)  # fmt: skip
# Combined with the instance's name ("parleysupport", "support_parley") these read as staff too.
STAFF_WORDS = frozenset(
    {"admin", "help", "moderator", "official", "safety", "staff", "support", "team"}
)


def _handle_skeleton(handle: str) -> str:
    """What a reader sees in a handle: case, underscores and digits do not make `Admin_1` a
    different name from `admin`."""
    return "".join(c for c in handle.lower() if c.isalpha())


def check_handle_unreserved(handle: str, instance_name: str) -> str:
    """A handle anyone may sign up with: not the platform's own voice."""
    seen = _handle_skeleton(handle)
    instance = _handle_skeleton(instance_name)
    staff_like = (
        {instance} | {instance + w for w in STAFF_WORDS} | {w + instance for w in STAFF_WORDS}
    )
    if seen in RESERVED_HANDLES or (instance and seen in staff_like):
        raise Invalid("reserved_handle", f"@{handle} is reserved: choose another handle")
    return handle


def check_new_handle(handle: str, instance_name: str, *, by: Actor | None) -> str:
    """A handle for a new account. `by`: who creates it; None when a person signs up. The
    operator may give a reserved handle (such as `support`) to the instance's own staff."""
    check_handle(handle)
    if by is None or not by.is_operator:
        check_handle_unreserved(handle, instance_name)
    return handle


def handle_key(handle: str) -> str:
    """Handles are unique without regard to case."""
    return handle.lower()


def check_password(password: str) -> str:
    return bounded_text(
        password,
        least=PASSWORD_MIN,
        most=PASSWORD_MAX,
        strip=False,
        code="invalid_password",
        what="A password",
    )


def clean_display_name(name: str) -> str:
    name = bounded_text(
        name, most=DISPLAY_NAME_MAX, code="invalid_display_name", what="A display name"
    )
    if has_control_or_bidi_override(name):
        raise Invalid(
            "invalid_display_name",
            "A display name cannot hold control characters or text-direction overrides",
        )
    if not has_visible_character(name):
        raise Invalid("invalid_display_name", "A display name needs a visible character")
    return name


def clean_bio(bio: str) -> str:
    return bounded_text(bio, least=0, most=BIO_MAX, code="invalid_bio", what="A bio")


def clean_post(text: str) -> str:
    return bounded_text(text, most=POST_MAX, code="invalid_post", what="A post")


@dataclass(frozen=True)
class Account:
    id: str
    handle: str
    display_name: str
    bio: str
    state: AccountState
    is_admin: bool
    created_at: datetime


def check_usable(account: Account) -> None:
    """Refuse an account that may not act, whatever its role or badge: every authenticated path,
    a session's or a bot's token, passes here."""
    if account.state is AccountState.SUSPENDED:
        raise Forbidden("account_suspended", "This account is suspended")
    if account.state is AccountState.DEACTIVATED:
        raise Forbidden("account_deactivated", "This account is deactivated")


def check_may_contribute(account: Account) -> None:
    """Refuse what a limited account may not do: post, host, come on stage or speak, react,
    change how its profile reads. Listening, reading, following, reporting and appealing stay."""
    if account.state is AccountState.LIMITED:
        raise Forbidden(
            "account_limited",
            "Your account is limited: you can listen and read, but not post, host, speak or "
            "react. Your notices say why and until when.",
        )


def check_may_be_on_stage(account: Account) -> None:
    """Someone asked on stage (invited, approved, made cohost) may not be a limited account."""
    if account.state is AccountState.LIMITED:
        raise Conflict("account_limited", f"@{account.handle} is limited and cannot speak")


def check_may_deactivate(account: Account, *, is_bot: bool, other_admins: int) -> None:
    """A person may delete their own account, unless the instance would be left with nobody to
    run it (an operator can add an admin first: `parley admin create-user --admin`)."""
    if is_bot:
        raise Forbidden("bot_deleted_by_owner", "A bot is deleted by its owner")
    check_usable(account)
    if account.is_admin and other_admins == 0:
        raise Conflict("last_admin", "Make someone else an admin before deleting this account")


@dataclass(frozen=True)
class Post:
    id: str
    author: Account
    text: str
    created_at: datetime
    place: Place | None = None
    # The space it shares (shown with it as a card while that space may be shown).
    space_id: str | None = None


def clean_cursor(before: datetime | None) -> datetime | None:
    """A `before` paging cursor: an instant with its time zone, which must exist in UTC."""
    if before is None:
        return None
    return utc_instant(before, code="invalid_before", field="before")
