"""Writes data/recorded-n628ts.jsonl: a made-up but realistic recording of what a readsb
receiver near Austin would publish as aircraft.json, one snapshot every 10 s from 16:20 to 17:55
UTC on 2026-11-27. It is synthetic (no real flight), built from the waypoints below with a
little seeded noise, so it can be regenerated exactly:
`python -m examples.flight_tracker.make_recording`.

- a835af (N628TS, a Gulfstream G650) parks and taxis at Brownsville (KBRO), takes off at
  16:30:00, climbs, cruises north, drops out of coverage for four minutes (16:52-16:56: listed
  stale for a minute, then gone), descends to Austin-Bergstrom (KAUS), goes around at 200 ft
  above the runway at 17:33, is lost for a minute in the circuit, and lands at 17:42:00;
- ab1e7c (N8710M, a Boeing 737) taxis at KAUS, takes off at 17:05:00 and leaves coverage for
  good while airborne (no landing to report);
- a0b1c2 (a Cessna 172 nobody watches) flies around San Marcos throughout.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).parent / "data" / "recorded-n628ts.jsonl"
START = datetime(2026, 11, 27, 16, 20, tzinfo=UTC).timestamp()
END_SECONDS = 5700
STEP = 10
G = "ground"


@dataclass(frozen=True)
class Point:
    t: int  # seconds after START
    lat: float
    lon: float
    alt: int | str  # feet, or "ground"
    gs: float


@dataclass(frozen=True)
class Aircraft:
    hex: str
    registration: str
    callsign: str
    type: str
    category: str
    route: tuple[Point, ...]
    gaps: tuple[tuple[int, int], ...] = ()  # [from, to): no messages received
    stale_for: int = 60  # seconds readsb keeps listing an aircraft it stopped hearing


N628TS = Aircraft(
    "a835af", "N628TS", "N628TS", "GLF6", "A3",
    (
        Point(0, 25.9100, -97.4200, G, 0),
        Point(360, 25.9100, -97.4200, G, 0),
        Point(370, 25.9100, -97.4200, G, 12),
        Point(540, 25.9030, -97.4340, G, 10),
        Point(560, 25.9000, -97.4330, G, 0),
        Point(598, 25.9120, -97.4480, G, 150),
        Point(600, 25.9125, -97.4487, 150, 155),
        Point(660, 25.9600, -97.5000, 3000, 200),
        Point(900, 26.2500, -97.6200, 12000, 300),
        Point(1500, 27.1000, -97.7200, 28000, 305),
        Point(3000, 29.0500, -97.7500, 28000, 285),
        Point(3600, 29.6500, -97.7200, 9000, 220),
        Point(4200, 29.9800, -97.6800, 3000, 170),
        Point(4290, 30.0800, -97.6710, 1500, 145),
        Point(4380, 30.1720, -97.6702, 742, 140),  # 200 ft over KAUS: going around
        Point(4440, 30.2350, -97.6690, 1800, 160),
        Point(4500, 30.2600, -97.6100, 3000, 180),
        Point(4620, 30.1500, -97.6000, 3000, 180),
        Point(4710, 30.0400, -97.6200, 2600, 170),
        Point(4770, 30.0200, -97.6650, 2200, 150),
        Point(4845, 30.1000, -97.6690, 1300, 140),
        Point(4915, 30.1700, -97.6700, 600, 135),
        Point(4920, 30.1755, -97.6700, G, 130),  # touchdown, 17:42:00
        Point(4960, 30.1950, -97.6705, G, 40),
        Point(4980, 30.2000, -97.6710, G, 20),
        Point(5400, 30.2050, -97.6600, G, 12),
        Point(5460, 30.2050, -97.6600, G, 0),
        Point(END_SECONDS, 30.2050, -97.6600, G, 0),
    ),
    gaps=((1920, 2160), (4530, 4590)),
)  # fmt: skip
N8710M = Aircraft(
    "ab1e7c", "N8710M", "SWA1234", "B38M", "A3",
    (
        Point(0, 30.2020, -97.6660, G, 0),
        Point(2400, 30.2020, -97.6660, G, 0),
        Point(2410, 30.2020, -97.6660, G, 14),
        Point(2640, 30.2150, -97.6590, G, 12),
        Point(2660, 30.2150, -97.6590, G, 0),
        Point(2698, 30.1900, -97.6590, G, 155),
        Point(2700, 30.1880, -97.6590, 700, 160),  # lift-off, 17:05:00
        Point(2820, 30.0500, -97.7800, 8000, 260),
        Point(3600, 29.4000, -98.6000, 24000, 420),
    ),
    gaps=((3500, END_SECONDS + 1),),
)  # fmt: skip
CESSNA = Aircraft(
    "a0b1c2", "", "N734QX", "C172", "A1",
    tuple(
        Point(t, 29.8927 + 0.05 * math.sin(t / 600), -97.8630 + 0.06 * math.cos(t / 600), 3500, 105)
        for t in range(0, END_SECONDS + 1, 300)
    ),
)  # fmt: skip
FLEET = (N628TS, N8710M, CESSNA)


def at(route: tuple[Point, ...], t: float) -> Point:
    """Where the aircraft is at `t`, between the waypoints around it."""
    for a, b in itertools.pairwise(route):
        if a.t <= t <= b.t:
            f = (t - a.t) / (b.t - a.t) if b.t > a.t else 0.0
            lat, lon = a.lat + f * (b.lat - a.lat), a.lon + f * (b.lon - a.lon)
            gs = a.gs + f * (b.gs - a.gs)
            alt: int | str
            if isinstance(a.alt, str) or isinstance(b.alt, str):
                alt = b.alt if f >= 1 else a.alt  # on the ground until the waypoint, or off it
            else:
                alt = round(a.alt + f * (b.alt - a.alt))
            return Point(round(t), lat, lon, alt, gs)
    return route[-1]


def bearing(a: Point, b: Point) -> float:
    y = math.sin(math.radians(b.lon - a.lon)) * math.cos(math.radians(b.lat))
    x = math.cos(math.radians(a.lat)) * math.sin(math.radians(b.lat)) - math.sin(
        math.radians(a.lat)
    ) * math.cos(math.radians(b.lat)) * math.cos(math.radians(b.lon - a.lon))
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def heard(aircraft: Aircraft, t: int) -> bool:
    return not any(start <= t < end for start, end in aircraft.gaps)


def entry(
    aircraft: Aircraft, t: int, rng: random.Random, messages: int
) -> dict[str, object] | None:
    """The aircraft as listed at `t`: fresh when heard; remembered (stale) for a while after."""
    last = t
    while last >= 0 and not heard(aircraft, last):
        last -= STEP
    if last < 0 or t - last > aircraft.stale_for:
        return None
    seen = t - last + rng.uniform(0.1, 0.5)
    here, ahead = at(aircraft.route, last), at(aircraft.route, last + 5)
    moving = here.gs > 1
    item: dict[str, object] = {
        "hex": aircraft.hex,
        "type": "adsb_icao",
        "flight": f"{aircraft.callsign:<8}",
        **({"r": aircraft.registration} if aircraft.registration else {}),
        "t": aircraft.type,
        "alt_baro": here.alt
        if isinstance(here.alt, str)
        else int(round((here.alt + rng.uniform(-30, 30)) / 25) * 25),
        "gs": round(max(0.0, here.gs + (rng.uniform(-2, 2) if moving else 0)), 1),
        "track": round(bearing(here, ahead), 1) if moving else 0.0,
        "category": aircraft.category,
        "lat": round(here.lat + rng.uniform(-2e-5, 2e-5), 6),
        "lon": round(here.lon + rng.uniform(-2e-5, 2e-5), 6),
        "nic": 8,
        "rc": 186,
        "seen_pos": round(seen, 1),
        "version": 2,
        "nac_p": 9,
        "sil": 3,
        "sil_type": "perhour",
        "mlat": [],
        "tisb": [],
        "messages": messages,
        "seen": round(seen, 1),
        "rssi": round(rng.uniform(-28, -12), 1),
    }
    if not isinstance(here.alt, str):
        item["alt_geom"] = int(here.alt) + 175
        item["baro_rate"] = int(round((_alt(ahead) - _alt(here)) * 12 / 64) * 64)
    return item


def _alt(point: Point) -> int:
    return 0 if isinstance(point.alt, str) else point.alt


def main() -> None:
    rng = random.Random(628)
    total = 0
    with OUT.open("w", encoding="utf-8") as out:
        for t in range(0, END_SECONDS + 1, STEP):
            total += rng.randint(900, 1400)
            listed = [entry(a, t, rng, total // 7) for a in FLEET]
            document = {
                "now": START + t + 0.6,  # written just after the second's messages
                "messages": total,
                "aircraft": [a for a in listed if a is not None],
            }
            out.write(json.dumps(document, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
