"""The flight tracker's detection (examples/flight_tracker): on the recorded file, exactly the
take-offs and the landing that happened, none for the go-around or the gaps in the data; and
the same rules on small hand-made sequences."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from examples.flight_tracker import airports
from examples.flight_tracker.__main__ import RECORDING
from examples.flight_tracker.adsb import Sample, parse_snapshot, recorded
from examples.flight_tracker.detector import FlightDetector, Kind
from examples.flight_tracker.tracker import describe, track

AIRPORTS = airports.load()
WATCHED = {"a835af": "N628TS", "ab1e7c": "", "a0b1c2": ""}
KAUS = next(a for a in AIRPORTS if a.ident == "KAUS")


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, second, tzinfo=UTC)


def test_the_recording_gives_two_take_offs_and_one_landing_in_order() -> None:
    reports = list(track(recorded(RECORDING), WATCHED, AIRPORTS, poster=None))
    assert [r.text for r in reports] == [
        "N628TS took off from Brownsville (KBRO) at 16:30 UTC",
        "N8710M took off from Austin-Bergstrom (KAUS) at 17:05 UTC",
        "N628TS landed at Austin-Bergstrom (KAUS) at 17:42 UTC, flight time 1 h 12 min",
    ]
    landing = reports[-1].event
    assert landing.kind is Kind.LANDING and landing.airport == KAUS
    assert at(17, 42) <= landing.sample.at < at(17, 42, 10)  # touchdown, not the go-around
    assert airports.distance_km(landing.sample.latitude, landing.sample.longitude,
                                KAUS.latitude, KAUS.longitude) < 3  # fmt: skip


def test_the_recording_has_the_go_around_and_the_gaps_it_claims() -> None:
    """The hard parts are really in the file: the tests above would pass on an easy one."""
    lowest_before_landing = min(
        s.altitude_ft - KAUS.elevation_ft
        for d in recorded(RECORDING)
        for s in parse_snapshot(d)
        if s.hex == "a835af" and at(17, 30) <= s.at < at(17, 41) and s.altitude_ft is not None
    )
    assert lowest_before_landing <= 250  # went down to about 200 ft, then around
    seen = sorted(s.at for d in recorded(RECORDING) for s in parse_snapshot(d) if s.hex == "a835af")
    gaps = [b - a for a, b in itertools.pairwise(seen) if b - a > timedelta(seconds=30)]
    assert len(gaps) == 2 and max(gaps) >= timedelta(minutes=4)
    listed_stale = [
        a
        for d in recorded(RECORDING)
        for a in d["aircraft"]
        if a["hex"] == "a835af" and a["seen_pos"] > 20
    ]
    assert listed_stale, "readsb lists a lost aircraft for a while: those must be ignored"


def sample(t: int, alt: int | str, gs: float, lat: float = 30.19, lon: float = -97.67) -> Sample:
    return Sample(
        hex="a835af",
        at=at(17, 0) + timedelta(seconds=t),
        latitude=lat,
        longitude=lon,
        on_ground=alt == "ground",
        altitude_ft=alt if isinstance(alt, int) else None,
        ground_speed_kt=gs,
        registration="N628TS",
    )


def events(samples: list[Sample]) -> list[tuple[Kind, datetime]]:
    detector = FlightDetector(AIRPORTS)
    return [(e.kind, e.sample.at) for s in samples if (e := detector.feed(s)) is not None]


def test_one_sample_is_not_enough_either_way() -> None:
    flying = [sample(t, 5000, 250) for t in range(0, 60, 10)]
    # One "ground" reading (a glitch) among flying ones; then a real landing.
    glitch = [sample(60, "ground", 250), sample(70, 5000, 250)]
    landed = [sample(t, "ground", 30) for t in range(80, 120, 10)]
    assert events(flying + glitch + landed) == [(Kind.LANDING, at(17, 1, 20))]


def test_a_go_around_is_not_a_landing() -> None:
    approach = [sample(t, 542 + max(200, 3000 - 30 * t), 140) for t in range(0, 200, 10)]
    climb = [sample(t, 742 + 20 * (t - 200), 150) for t in range(200, 300, 10)]
    assert events(approach + climb) == []


def test_a_gap_changes_nothing_and_a_long_one_forgets() -> None:
    flying = [sample(t, 20000, 400) for t in range(0, 40, 10)]
    after_short_gap = [sample(t, 20000, 400) for t in range(400, 440, 10)]
    assert events(flying + after_short_gap) == []
    # Lost for an hour, then seen on the ground: when it landed was never seen.
    after_long_gap = [sample(t, "ground", 5) for t in range(3600, 3640, 10)]
    assert events(flying + after_long_gap) == []


def test_without_the_ground_flag_slow_and_at_field_elevation_is_on_the_ground() -> None:
    flying = [sample(t, 3000, 160) for t in range(0, 40, 10)]
    rolling = [sample(t, 575, 40) for t in range(40, 80, 10)]  # KAUS is at 542 ft
    assert events(flying + rolling) == [(Kind.LANDING, at(17, 0, 40))]
    slow_but_high = [sample(t, 4000, 40) for t in range(40, 80, 10)]  # a strong headwind
    assert events(flying + slow_but_high) == []


def test_far_from_every_airport_the_post_gives_coordinates() -> None:
    flying = [sample(t, 3000, 160, lat=31.0, lon=-99.0) for t in range(0, 40, 10)]
    landed = [sample(t, "ground", 20, lat=31.0, lon=-99.0) for t in range(40, 80, 10)]
    detector = FlightDetector(AIRPORTS)
    found = [e for s in flying + landed if (e := detector.feed(s)) is not None]
    assert [describe(e, {"a835af": "N628TS"}) for e in found] == [
        "N628TS landed near 31.000, -99.000 at 17:00 UTC"
    ]
