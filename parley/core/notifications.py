"""What an account is notified of (a space went live, an appeal was decided...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from parley.core.spaces.model import Space

# A few named values, stored as JSON: what a notification carries, what an audit entry keeps of
# before and after. Only JSON's scalars, so they read back as they were written.
Details = Mapping[str, str | int | bool | None]


class NotificationKind(StrEnum):
    SPACE_LIVE = "space_live"  # someone followed, or a space one asked to be reminded of
    UNSUSPENDED = "unsuspended"
    # A report one made was reviewed: acted on, or dismissed (never how, nor the notes).
    REPORT_RESOLVED = "report_resolved"
    LIMITED = "limited"  # listening and reading only: its notice says why, and how to appeal
    UNLIMITED = "unlimited"  # a limit lifted: by a moderator, its end, or an appeal
    APPEAL_DECIDED = "appeal_decided"
    POST_REMOVED = "post_removed"  # by a moderator: its notice says why, and how to appeal
    RECORDING_REMOVED = "recording_removed"  # of a space one hosted, likewise
    SPACE_REMOVED = "space_removed"  # one's space ended or called off by a moderator, likewise
    # One's bot suspended or limited on its own: its notice is among one's own, to appeal.
    BOT_RESTRICTED = "bot_restricted"
    # A scheduled space one asked to be reminded of, moved to another time, or called off.
    SPACE_RESCHEDULED = "space_rescheduled"
    SPACE_CANCELLED = "space_cancelled"


# The kinds that tell of a space (`space_id` in their data).
SPACE_KINDS = frozenset(
    {
        NotificationKind.SPACE_LIVE,
        NotificationKind.SPACE_RESCHEDULED,
        NotificationKind.SPACE_CANCELLED,
    }
)


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    data: Details
    created_at: datetime

    @property
    def space_id(self) -> str | None:
        """The space it tells of, if it tells of one."""
        value = self.data.get("space_id")
        return value if self.kind in SPACE_KINDS and isinstance(value, str) else None


def as_shown(notification: Notification, space: Space | None) -> Notification:
    """A notification of a space as it may be read now rather than as it was written: with the
    space's title as it is now, or, once the space may no longer be shown (`space` is None:
    moderation took it down, its host is suspended or gone), with neither title nor host and
    `withheld`. What moderation withdrew does not live on in people's notifications."""
    if space is None:
        withheld = {"space_id": notification.space_id, "title": None, "host": None}
        return replace(notification, data={**withheld, "withheld": True})
    return replace(notification, data={**notification.data, "title": space.title})


# The unread count a client is given stops here: nobody reads "1,732" on a bell.
UNREAD_COUNTED_MAX = 99


@dataclass(frozen=True)
class Inbox:
    """An account's newest notifications, and the id of the newest one it has seen on any
    device: those after it are unread."""

    notifications: tuple[Notification, ...]
    seen_id: int

    def unread(self, notification: Notification) -> bool:
        return notification.id > self.seen_id
