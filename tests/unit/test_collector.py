"""The collector's policy (api/collector.py): what survives a full collection is frozen, out of
the next ones' walk, until as much of it has been freed as was frozen; then a full collection
walks everything and frees what froze in a cycle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from parley.api.collector import FreezingCollector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def policy() -> Iterator[FreezingCollector]:
    saved = list(gc.callbacks)
    gc.collect()
    gc.unfreeze()
    collector = FreezingCollector(complete_walk_after=10_000)
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


def test_a_frozen_cycle_is_freed_once_the_frozen_objects_turned_over(
    policy: FreezingCollector,
) -> None:
    held, gone = _cycle()
    gc.collect()  # frozen while reachable
    del held
    gc.collect()
    assert gone() is not None  # unreachable, but frozen: this walk did not see it
    churn = [Node() for _ in range(20_000)]
    gc.collect()
    del churn  # frozen, then freed by reference counting: the frozen objects turned over
    gc.collect()  # notices, and unfreezes
    assert gone() is not None
    gc.collect()  # walks everything
    assert gone() is None
    assert policy.complete_walks == 1
