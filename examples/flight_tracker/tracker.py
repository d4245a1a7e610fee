"""The bot: snapshots in, posts out. Watches a list of aircraft, turns their take-offs and
landings into posts with the place attached, and lets the server's location policy decide when
each may be published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from examples.flight_tracker.adsb import parse_snapshot
from examples.flight_tracker.airports import Airport
from examples.flight_tracker.detector import FlightDetector, FlightEvent, Kind
from examples.flight_tracker.parley_client import Held, Place, Published


class Poster(Protocol):
    def post(self, text: str, place: Place) -> Published | Held: ...


@dataclass(frozen=True)
class Report:
    event: FlightEvent
    text: str
    outcome: Published | Held | None  # None: not posted (a dry run)


def label(event: FlightEvent, names: Mapping[str, str]) -> str:
    """What the aircraft is called in posts: the name given in the watch list, else its
    registration from the feed, else its ICAO address."""
    return names.get(event.hex) or event.sample.registration or event.hex.upper()


def describe(event: FlightEvent, names: Mapping[str, str]) -> str:
    """ "N628TS landed at Austin-Bergstrom (KAUS) at 17:42 UTC, flight time 1 h 12 min"."""
    where = event.airport
    at = event.sample.at.strftime("%H:%M UTC")
    place = str(where) if where else _coordinates(event)
    if event.kind is Kind.TAKE_OFF:
        verb = "took off from" if where else "took off near"
        return f"{label(event, names)} {verb} {place} at {at}"
    verb = "landed at" if where else "landed near"
    text = f"{label(event, names)} {verb} {place} at {at}"
    if event.flight_time is not None:
        text += f", flight time {duration(event.flight_time)}"
    return text


def duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _coordinates(event: FlightEvent) -> str:
    return f"{event.sample.latitude:.3f}, {event.sample.longitude:.3f}"


def track(
    snapshots: Iterable[dict[str, Any]],
    watched: Mapping[str, str],
    airports: list[Airport],
    poster: Poster | None,
) -> Iterable[Report]:
    """The reports for the watched aircraft (hex → name, "" to use the feed's registration),
    posting each as it happens when a poster is given."""
    detector = FlightDetector(airports)
    for document in snapshots:
        for sample in parse_snapshot(document):
            if sample.hex not in watched:
                continue
            event = detector.feed(sample)
            if event is None:
                continue
            text = describe(event, watched)
            place = Place(
                event.sample.latitude,
                event.sample.longitude,
                event.sample.at,
                label(event, watched),
            )
            yield Report(event, text, poster.post(text, place) if poster else None)
