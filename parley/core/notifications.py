"""What an account is notified of (a space went live, an appeal was decided...), and what each
kind of notification carries: a payload of its own, a frozen dataclass below, its `data`. The
store keeps it as JSON (`notification_data`, `payload_of`); the API renders the record itself, so
its schema describes each kind's data, leaving out the same fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from parley.core.accounts import AccountState
from parley.core.moderation import AppealDecision, ReportStatus, ReportTarget
from parley.core.spaces.model import Space
from parley.core.wire import WireData, from_data, to_data


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


# --- payloads: a field with a default is left out of `data` while it has it -----------------


@dataclass(frozen=True)
class SpaceNews:
    """Of a space: live, moved, or called off. `title` is the space's as it is when read."""

    space_id: str
    title: str | None
    host: str | None  # the host's handle; None once the host is gone
    scheduled_start: datetime | None = None  # moved: when it starts now
    reason: str | None = None  # called off: only rules.NOT_STARTED is ever told
    withheld: bool = False  # no longer to be shown: neither title nor host is told


@dataclass(frozen=True)
class Lifted:
    """A suspension or limit ended: by a moderator, its end, or an appeal."""

    reason: str
    bot: str | None = None  # told to a bot's owner: the bot's handle


@dataclass(frozen=True)
class StillLimited:
    """A suspension ended over a limit still running (or a bot's owner's): limited until
    `until` (None: until lifted)."""

    reason: str
    still_limited: bool  # always true: what tells this payload from `Lifted`'s
    until: datetime | None
    bot: str | None = None


@dataclass(frozen=True)
class LimitSet:
    notice_id: str
    rule: str
    until: datetime | None


@dataclass(frozen=True)
class BotRestricted:
    bot: str
    state: AccountState
    notice_id: str
    rule: str
    until: datetime | None


@dataclass(frozen=True)
class ReportResolved:
    """A report one made was reviewed: never how, nor the moderator's notes."""

    report_id: str
    target_type: ReportTarget
    status: ReportStatus
    rule: str


@dataclass(frozen=True)
class AppealDecided:
    appeal_id: str
    decision: AppealDecision
    reason: str
    bot: str | None = None


@dataclass(frozen=True)
class PostRemoved:
    post_id: str
    notice_id: str
    rule: str
    bot: str | None = None


@dataclass(frozen=True)
class SpaceRemoved:
    """A space one hosted, or its recording, taken down by a moderator."""

    space_id: str
    notice_id: str
    rule: str
    bot: str | None = None


NotificationData = (
    SpaceNews
    | Lifted
    | StillLimited
    | LimitSet
    | BotRestricted
    | ReportResolved
    | AppealDecided
    | PostRemoved
    | SpaceRemoved
)

# What each kind may carry; the first is what it is read as, unless its data says otherwise.
CARRIES: Mapping[NotificationKind, tuple[type[NotificationData], ...]] = {
    NotificationKind.SPACE_LIVE: (SpaceNews,),
    NotificationKind.SPACE_RESCHEDULED: (SpaceNews,),
    NotificationKind.SPACE_CANCELLED: (SpaceNews,),
    NotificationKind.UNSUSPENDED: (Lifted, StillLimited),
    NotificationKind.UNLIMITED: (Lifted, StillLimited),
    NotificationKind.LIMITED: (LimitSet,),
    NotificationKind.BOT_RESTRICTED: (BotRestricted,),
    NotificationKind.REPORT_RESOLVED: (ReportResolved,),
    NotificationKind.APPEAL_DECIDED: (AppealDecided,),
    NotificationKind.POST_REMOVED: (PostRemoved,),
    NotificationKind.RECORDING_REMOVED: (SpaceRemoved,),
    NotificationKind.SPACE_REMOVED: (SpaceRemoved,),
}


def notification_data(data: NotificationData) -> WireData:
    """`data` as the store keeps it: the keys clients are sent."""
    return to_data(data, leave_out=_at_default)


def payload_of(kind: NotificationKind, data: Mapping[str, object]) -> NotificationData:
    """What a stored notification of `kind` carries. Raises `KeyError`, `TypeError` or
    `ValueError` where `data` is not what `kind` carries."""
    cls: type[NotificationData] = StillLimited if "still_limited" in data else CARRIES[kind][0]
    if cls not in CARRIES[kind]:
        raise ValueError(f"{kind.value} does not carry {cls.__name__}")
    if cls is SpaceNews:
        data = {"host": None, **data}  # the first space_live notifications did not name the host
    return from_data(cls, data)


def _at_default(field: dataclasses.Field[Any], value: object) -> bool:
    return field.default is not dataclasses.MISSING and value == field.default


@dataclass(frozen=True)
class Notification:
    id: int
    kind: NotificationKind
    data: NotificationData
    created_at: datetime

    @property
    def space_id(self) -> str | None:
        """The space it tells of, if it tells of one."""
        return self.data.space_id if isinstance(self.data, SpaceNews) else None


def as_shown(notification: Notification, space: Space | None) -> Notification:
    """A notification of a space as it may be read now rather than as it was written: with the
    space's title as it is now, or, once the space may no longer be shown (`space` is None:
    moderation took it down, its host is suspended or gone), with neither title nor host and
    `withheld`. What moderation withdrew does not live on in people's notifications."""
    data = notification.data
    if not isinstance(data, SpaceNews):
        return notification
    if space is None:
        return replace(notification, data=SpaceNews(data.space_id, None, None, withheld=True))
    return replace(notification, data=replace(data, title=space.title))


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
