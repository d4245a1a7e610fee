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


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    data: Details
    created_at: datetime
