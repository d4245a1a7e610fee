"""Bodies of places in posts and of the location policy."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from parley.api.schemas.common import Body, Text, from_record
from parley.core.location import LocationPolicy, Place


class PlaceIn(Body):
    """Where something was and when; `label` says what it is (an aircraft's registration).
    Refused with 422 `invalid_place` out of range or observed in the future, and with 422
    `location_too_recent` (naming `rule` and `publish_after`) while the location policy says it
    is too recent to publish."""

    latitude: float
    longitude: float
    observed_at: datetime
    label: Text

    def place(self) -> Place:
        return Place(self.latitude, self.longitude, self.observed_at, self.label)


class PlaceOut(BaseModel):
    latitude: float
    longitude: float
    observed_at: datetime
    label: str

    @classmethod
    def of(cls, place: Place | None) -> PlaceOut | None:
        return None if place is None else cls.model_validate(place, from_attributes=True)


class LocationPolicyIn(Body):
    """`delay_seconds`: the least time between a place's observation and its publication (0:
    none). `rule` and `reason` are what a refused author is told."""

    delay_seconds: int = Field(ge=0, le=2**31 - 1)
    rule: Text = ""
    reason: Text = ""


class LocationPolicyOut(BaseModel):
    delay_seconds: int
    rule: str
    reason: str
    updated_at: datetime | None

    @classmethod
    def of(cls, policy: LocationPolicy) -> LocationPolicyOut:
        return from_record(cls, policy, delay_seconds=int(policy.delay.total_seconds()))
