"""Instants taken from users: aware, and representable in UTC; and instants given to people
in words.

An offset can push a datetime that parses past the last representable UTC instant
(`9999-12-31T23:59:59-14:00`); converting it would overflow deep in a store or a comparison, so
every instant a user gives is normalised here first and refused with that field's code.
"""

from __future__ import annotations

from datetime import UTC, datetime

from parley.core.errors import Invalid


def utc_instant(value: datetime, *, code: str, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(code, f"`{field}` needs a time zone, e.g. 2026-01-01T00:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(code, f"`{field}` is out of range") from None


def readable_time(at: datetime) -> str:
    """An instant as a sentence gives it to anyone, wherever they are: "9 December 2026, 18:30
    UTC" (to the minute). Not an ISO timestamp, which is for software."""
    utc = at.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"
