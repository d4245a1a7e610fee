"""Take-offs and landings from a stream of samples of one aircraft, with hysteresis.

Each fresh sample is read as "flying" (an altitude reported, at least FLYING_KT over the
ground), "on the ground" (the transponder says so, or under GROUND_KT and within GROUND_AGL_FT
of the nearest airport's elevation) or neither (say 60 kt at 150 ft: a flare, a slow taxi with
a bad altitude). The aircraft changes state only after CONFIRM_SAMPLES of the other state in a
row, spanning CONFIRM_SECONDS at least; a sample of the current state in between starts over.

So a go-around (down to 200 ft at 140 kt, then climbing) is never a landing: it never reads as
on the ground. A gap in the data (out of coverage, a receiver down) changes nothing by itself;
a gap longer than MAX_GAP forgets the state, because what happened meanwhile is unknown: the
next state is then learnt without reporting an event at a time that was never seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from examples.flight_tracker.adsb import Sample
from examples.flight_tracker.airports import Airport, nearest

FLYING_KT = 80.0
GROUND_KT = 50.0
GROUND_AGL_FT = 300
CONFIRM_SAMPLES = 3
CONFIRM_SECONDS = 15.0
MAX_GAP = timedelta(minutes=15)
# Within this of an airport, its elevation tells height above the ground.
ELEVATION_WITHIN_KM = 20.0


class State(StrEnum):
    UNKNOWN = "unknown"
    GROUND = "ground"
    FLYING = "flying"


class Kind(StrEnum):
    TAKE_OFF = "take-off"
    LANDING = "landing"


@dataclass(frozen=True)
class FlightEvent:
    kind: Kind
    hex: str
    sample: Sample  # the first sample of the new state: when and where it happened
    airport: Airport | None
    flight_time: timedelta | None = None  # landings whose take-off was seen


@dataclass
class AircraftTrack:
    """What the detector knows of one aircraft."""

    state: State = State.UNKNOWN
    last_seen: datetime | None = None
    took_off_at: datetime | None = None
    pending: list[Sample] = field(default_factory=list)  # a run of the other state


class FlightDetector:
    def __init__(self, airports: list[Airport]) -> None:
        self.airports = airports
        self.tracks: dict[str, AircraftTrack] = {}

    def feed(self, sample: Sample) -> FlightEvent | None:
        track = self.tracks.setdefault(sample.hex, AircraftTrack())
        if track.last_seen is not None and sample.at <= track.last_seen:
            return None  # the same position again (an unchanged snapshot), or out of order
        if track.last_seen is not None and sample.at - track.last_seen > MAX_GAP:
            track.state, track.took_off_at, track.pending = State.UNKNOWN, None, []
        track.last_seen = sample.at
        reading = self.reading(sample)
        if reading is None:
            return None  # neither: the run so far stands
        if reading is track.state:
            track.pending = []
            return None
        track.pending.append(sample)
        first = track.pending[0]
        span = (sample.at - first.at).total_seconds()
        if len(track.pending) < CONFIRM_SAMPLES or span < CONFIRM_SECONDS:
            return None
        before, track.state, track.pending = track.state, reading, []
        if before is State.UNKNOWN:
            return None  # first seen like this: no event happened that was seen
        airport = nearest(self.airports, first.latitude, first.longitude)
        if reading is State.FLYING:
            track.took_off_at = first.at
            return FlightEvent(Kind.TAKE_OFF, sample.hex, first, airport)
        flown = first.at - track.took_off_at if track.took_off_at else None
        track.took_off_at = None
        return FlightEvent(Kind.LANDING, sample.hex, first, airport, flown)

    def reading(self, sample: Sample) -> State | None:
        speed = sample.ground_speed_kt
        if sample.on_ground:
            return State.GROUND
        if sample.altitude_ft is not None and speed is not None and speed >= FLYING_KT:
            return State.FLYING
        if speed is not None and speed < GROUND_KT and self._low(sample):
            return State.GROUND
        return None

    def _low(self, sample: Sample) -> bool:
        if sample.altitude_ft is None:
            return False
        field = nearest(self.airports, sample.latitude, sample.longitude, ELEVATION_WITHIN_KM)
        elevation = field.elevation_ft if field else 0
        return sample.altitude_ft - elevation <= GROUND_AGL_FT
