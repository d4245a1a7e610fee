"""What an account is notified of (a space went live, an appeal was decided...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

# A few named values, stored as JSON: what a notification carries, what an audit entry keeps of
# before and after. Only JSON's scalars, so they read back as they were written.
Details = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    data: Details
    created_at: datetime
