"""The node's memory of spaces it may show publicly: what it keeps, for how long, what empties
it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.spaces.exposure_cache import ExposureCache
from parley.core.spaces.model import Space, SpaceStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def space(space_id: str, host_id: str) -> Space:
    return Space(
        id=space_id, host_id=host_id, title=space_id, state=SpaceStatus.LIVE, created_at=T0
    )


def filled(*spaces: Space) -> ExposureCache:
    cache = ExposureCache(timedelta(seconds=5))
    for one in spaces:
        cache.put(one, T0, generation=cache.generation)
    return cache


def test_a_space_is_answered_until_its_time_runs_out() -> None:
    cache = filled(space("s1", "ada"))
    hit = cache.get("s1", T0 + timedelta(seconds=4.9))
    assert hit is not None and hit.id == "s1"
    assert cache.get("s1", T0 + timedelta(seconds=5)) is None
    assert cache.get("s1", T0) is None  # gone, not only stale
    assert cache.get("unknown", T0) is None


def test_a_hosts_suspension_or_a_space_ending_empties_their_entries() -> None:
    cache = filled(space("s1", "ada"), space("s2", "ada"), space("s3", "bob"), space("s4", "cy"))
    assert cache.host_ids() == {"ada", "bob", "cy"}
    cache.forget_hosts({"ada"})
    assert cache.get("s1", T0) is None and cache.get("s2", T0) is None
    cache.forget_spaces({"s3"})
    assert cache.get("s3", T0) is None
    assert cache.get("s4", T0) is not None
    assert cache.host_ids() == {"cy"}


def test_a_read_that_raced_a_suspension_is_not_kept() -> None:
    cache = ExposureCache(timedelta(seconds=5))
    read_under = cache.generation  # the space and its host are read...
    cache.forget_hosts({"ada"})  # ...the bus says ada was suspended meanwhile...
    cache.put(space("s1", "ada"), T0, generation=read_under)
    assert cache.get("s1", T0) is None  # ...so what was read is not remembered
    cache.forget_hosts(set())  # nothing to forget: fills in flight are not spoiled
    cache.put(space("s1", "ada"), T0, generation=cache.generation)
    assert cache.get("s1", T0) is not None


def test_off_keeps_nothing_and_a_full_cache_sheds_its_oldest() -> None:
    off = ExposureCache(timedelta(0))
    off.put(space("s1", "ada"), T0, generation=off.generation)
    assert len(off) == 0
    small = ExposureCache(timedelta(seconds=5), capacity=2)
    for name in ("s1", "s2", "s3"):
        small.put(space(name, "ada"), T0, generation=small.generation)
    assert small.get("s1", T0) is None
    assert small.get("s2", T0) is not None and small.get("s3", T0) is not None
