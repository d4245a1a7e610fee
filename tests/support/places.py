"""Places in posts: the location policy tests set (`POLICY`, a day's delay) and a `place` body."""

from __future__ import annotations

from datetime import datetime

DAY = 24 * 3600
POLICY = {
    "delay_seconds": DAY,
    "rule": "aircraft-positions",
    "reason": "A live position of an aircraft is a live position of the people in it",
}


def place(observed_at: datetime, **extra: object) -> dict[str, object]:
    return {
        "latitude": 30.1945,
        "longitude": -97.6699,
        "observed_at": observed_at.isoformat(),
        "label": "N628TS",
        **extra,
    }
