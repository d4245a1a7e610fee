"""ADS-B aircraft state as readsb and dump1090 publish it: `aircraft.json`, a snapshot
`{"now": <epoch seconds>, "aircraft": [{"hex", "alt_baro", "gs", "lat", "lon", "seen_pos", ...}]}`
rewritten every second or so. Read here from a URL polled at an interval, or from a recorded
file of snapshots (one JSON document per line)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

# A position older than this when the snapshot was written is stale: the receiver lost the
# aircraft and is only remembering it (readsb keeps an aircraft listed for a while).
STALE_POSITION_SECONDS = 20.0


@dataclass(frozen=True)
class Sample:
    """One aircraft's position and motion at one time."""

    hex: str  # ICAO 24-bit address, six lower-case hex digits
    at: datetime  # when the position was received
    latitude: float
    longitude: float
    on_ground: bool  # the transponder says so (alt_baro "ground")
    altitude_ft: int | None  # barometric; None on the ground or when unknown
    ground_speed_kt: float | None
    registration: str | None  # readsb's "r", when it has an aircraft database


def parse_snapshot(document: dict[str, Any]) -> list[Sample]:
    """The aircraft with a fresh position in one aircraft.json document."""
    now = float(document["now"])
    samples = []
    for aircraft in document.get("aircraft", []):
        sample = _sample(aircraft, now)
        if sample is not None:
            samples.append(sample)
    return samples


def _sample(aircraft: dict[str, Any], now: float) -> Sample | None:
    lat, lon, seen_pos = aircraft.get("lat"), aircraft.get("lon"), aircraft.get("seen_pos")
    if lat is None or lon is None or seen_pos is None or seen_pos > STALE_POSITION_SECONDS:
        return None
    altitude = aircraft.get("alt_baro")
    on_ground = altitude == "ground"
    speed = aircraft.get("gs")
    return Sample(
        hex=str(aircraft["hex"]).lower().lstrip("~"),
        at=datetime.fromtimestamp(now - float(seen_pos), UTC),
        latitude=float(lat),
        longitude=float(lon),
        on_ground=on_ground,
        altitude_ft=int(altitude) if isinstance(altitude, int | float) else None,
        ground_speed_kt=float(speed) if isinstance(speed, int | float) else None,
        registration=aircraft.get("r"),
    )


def recorded(
    path: Path,
    *,
    speed: float = 0.0,
    shift_seconds: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """The snapshots of a recording, in order. `speed`: replay that many times faster than
    recorded (0: as fast as they can be read). `shift_seconds` is added to every time in it."""
    previous: float | None = None
    for document in _documents(path):
        document["now"] = float(document["now"]) + shift_seconds
        if speed > 0 and previous is not None:
            sleep(max(0.0, document["now"] - previous) / speed)
        previous = document["now"]
        yield document


def shift_to_end_now(path: Path, now: float | None = None) -> float:
    """The shift that makes a recording end at `now`: replayed, it looks as if just seen."""
    last = max(float(d["now"]) for d in _documents(path))
    return (time.time() if now is None else now) - last


def _documents(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def polled(
    url: str, *, interval: float, sleep: Callable[[float], None] = time.sleep
) -> Iterator[dict[str, Any]]:
    """aircraft.json fetched every `interval` seconds, forever; a failed fetch is skipped (the
    detector treats it as a gap in the data, which it is)."""
    with httpx.Client(timeout=10.0) as http:
        while True:
            try:
                response = http.get(url)
                response.raise_for_status()
                yield response.json()
            except (httpx.HTTPError, ValueError) as failure:
                print(f"flight_tracker: could not read {url}: {failure}", flush=True)
            sleep(interval)
