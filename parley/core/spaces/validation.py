"""Checks on what a host types when creating or editing a space."""

from __future__ import annotations

from datetime import datetime, timedelta

from parley.core.errors import Invalid
from parley.core.instants import utc_instant
from parley.core.text import bounded_text

TITLE_MAX = 100
DESCRIPTION_MAX = 1000
TOPICS_MAX = 3
TOPIC_MAX = 30
SCHEDULE_AHEAD_MAX = timedelta(days=30)


def clean_title(title: str) -> str:
    return bounded_text(title, most=TITLE_MAX, code="invalid_title", what="A title")


def clean_description(description: str) -> str:
    return bounded_text(
        description, least=0, most=DESCRIPTION_MAX, code="invalid_description", what="A description"
    )


def clean_topics(topics: list[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(t.strip() for t in topics))
    if len(cleaned) > TOPICS_MAX or any(not 1 <= len(t) <= TOPIC_MAX for t in cleaned):
        raise Invalid(
            "invalid_topics", f"Up to {TOPICS_MAX} topics of 1 to {TOPIC_MAX} characters each"
        )
    return cleaned


def check_schedule(start: datetime, now: datetime) -> datetime:
    start = utc_instant(start, code="invalid_schedule", field="scheduled_start")
    if start <= now:
        raise Invalid("invalid_schedule", "A scheduled start must be in the future")
    if start - now > SCHEDULE_AHEAD_MAX:
        raise Invalid("invalid_schedule", "A space can be scheduled at most 30 days ahead")
    return start
