"""Places in posts and the location policy: how long after a thing was seen where it was a post
may say so. A live position of an aircraft, a car or a boat is a live position of the people in
it; the policy's delay lets an admin keep such places from being published while they still lead
to someone."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.core.errors import Invalid
from parley.core.instants import utc_instant
from parley.core.moderation import clean_reason, clean_rule
from parley.core.text import bounded_text, has_control_or_bidi_override

LABEL_MAX = 100
# Clocks of the observer and of this node disagree a little; more than this is a made-up time.
CLOCK_SKEW = timedelta(minutes=2)
# A delay longer than a year is a typo; "never" is not a delay but a rule against posting places.
DELAY_MAX = timedelta(days=366)
NO_DELAY_RULE = "none"


@dataclass(frozen=True)
class Place:
    """Where something was and when: `label` says what it is (an aircraft's registration)."""

    latitude: float
    longitude: float
    observed_at: datetime
    label: str


@dataclass(frozen=True)
class LocationPolicy:
    """The minimum delay between a place's observation and its publication. Every place counts
    as one of a thing tied to a person: the server cannot tell, and an author who could say
    otherwise could opt out of the rule. It applies to every account alike, moderators' too."""

    delay: timedelta
    rule: str
    reason: str
    updated_at: datetime | None = None
    updated_by: str | None = None


NO_DELAY = LocationPolicy(timedelta(0), NO_DELAY_RULE, "")


def clean_place(place: Place, now: datetime) -> Place:
    """The place as stored (UTC, label stripped), or the rule it breaks."""
    if not (math.isfinite(place.latitude) and -90 <= place.latitude <= 90):
        raise Invalid("invalid_place", "A latitude is between -90 and 90")
    if not (math.isfinite(place.longitude) and -180 <= place.longitude <= 180):
        raise Invalid("invalid_place", "A longitude is between -180 and 180")
    observed_at = utc_instant(place.observed_at, code="invalid_place", field="observed_at")
    if observed_at > now + CLOCK_SKEW:
        raise Invalid("invalid_place", "A place cannot be observed in the future")
    label = bounded_text(place.label, most=LABEL_MAX, code="invalid_place", what="A place's label")
    if has_control_or_bidi_override(label):
        raise Invalid("invalid_place", "A place's label cannot contain control characters")
    return Place(place.latitude, place.longitude, observed_at, label)


def policy(delay_seconds: int, rule: str, reason: str) -> LocationPolicy:
    """A valid policy, or the rule it breaks. A delay of 0 means none (and needs no reason)."""
    if not 0 <= delay_seconds <= DELAY_MAX.total_seconds():
        raise Invalid("invalid_delay", f"A delay is 0 to {int(DELAY_MAX.total_seconds())} seconds")
    if delay_seconds == 0 and not reason.strip():
        return LocationPolicy(timedelta(0), clean_rule(rule or NO_DELAY_RULE), "")
    return LocationPolicy(timedelta(seconds=delay_seconds), clean_rule(rule), clean_reason(reason))


def publish_after(policy: LocationPolicy, place: Place) -> datetime:
    return place.observed_at + policy.delay


def held_until(policy: LocationPolicy, place: Place, now: datetime) -> datetime | None:
    """The earliest time the policy lets the place be published, or None if it may be now. No
    delay means none: not even a place a little ahead of this node's clock (CLOCK_SKEW) is held
    back."""
    if not policy.delay:
        return None
    earliest = publish_after(policy, place)
    return earliest if now < earliest else None


def check_place(policy: LocationPolicy, place: Place, now: datetime) -> None:
    """Refuse a place the policy says is still too recent to publish, naming the rule and the
    earliest time it may be."""
    earliest = held_until(policy, place, now)
    if earliest is not None:
        raise LocationTooRecent(policy, earliest)


class LocationTooRecent(Invalid):
    """A place the policy holds back until `publish_after`."""

    def __init__(self, policy: LocationPolicy, publish_after: datetime) -> None:
        super().__init__(
            "location_too_recent",
            f"Places may be published {_span(policy.delay)} after they were observed: "
            f"{policy.reason}",
        )
        self.policy = policy
        self.publish_after = publish_after


def _span(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
