"""What an account is notified of (a space went live, an appeal was decided...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# A few named values, stored as JSON: what a notification carries, what an audit entry keeps of
# before and after. Only JSON's scalars, so they read back as they were written.
Details = Mapping[str, str | int | bool | None]


class NotificationKind(StrEnum):
    SPACE_LIVE = "space_live"  # someone followed, or a space one asked to be reminded of
    UNSUSPENDED = "unsuspended"
    APPEAL_DECIDED = "appeal_decided"
    POST_REMOVED = "post_removed"  # by a moderator: its notice says why, and how to appeal
    # A scheduled space one asked to be reminded of, moved to another time, or called off.
    SPACE_RESCHEDULED = "space_rescheduled"
    SPACE_CANCELLED = "space_cancelled"


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    data: Details
    created_at: datetime


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
