"""The collector's policy (api/collector.py): what survives a full collection is frozen, out of
the next ones' walk; once in a while a full collection walks everything and frees what froze in
a cycle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from parley.api.collector import FreezingCollector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


now = [0.0]


@pytest.fixture
def policy() -> Iterator[FreezingCollector]:
    saved = list(gc.callbacks)
    gc.collect()
    gc.unfreeze()
    collector = FreezingCollector(every=600.0, clock=lambda: now[0])
    gc.callbacks[:] = [collector]
    try:
        yield collector
    finally:
        gc.callbacks[:] = saved
        gc.unfreeze()
        gc.collect()


def _cycle() -> tuple[Node, weakref.ref[Node]]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(b)


def test_survivors_of_a_full_collection_are_frozen(policy: FreezingCollector) -> None:
    kept = [Node() for _ in range(100)]
    gc.collect()
    walked = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in walked for o in kept)
    assert gc.get_freeze_count() >= len(kept)
    fresh = Node()
    assert id(fresh) in {id(o) for o in gc.get_objects()}  # not frozen until the next one


def test_a_cycle_still_young_is_collected(policy: FreezingCollector) -> None:
    gc.collect()
    held, gone = _cycle()
    del held
    gc.collect()
    assert gone() is None


def test_a_frozen_cycle_is_freed_by_the_next_complete_walk(policy: FreezingCollector) -> None:
    held, gone = _cycle()
    gc.collect()  # frozen while reachable
    del held
    now[0] += 599
    gc.collect()
    assert gone() is not None  # unreachable, but frozen: this walk did not see it
    now[0] += 1
    gc.collect()  # the time has come: unfreezes
    assert gone() is not None
    gc.collect()  # walks everything
    assert gone() is None
    assert policy.complete_walks == 1
    held, gone = _cycle()
    gc.collect()  # frozen again, for another period
    del held
    gc.collect()
    assert gone() is not None
