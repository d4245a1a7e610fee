"""Media connections are counted as presence by one writer that brings the store to what the
rooms hold: in order, only what changed, and again after a failed write."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.services.media_presence import MediaPresence

KEYS = [("s1", "ann"), ("s1", "bob"), ("s2", "ann")]


class Store:
    """The counts a node's writes leave in the store, and every write, in order."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.writes: list[tuple[str, str, str]] = []
        self.failures = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def connected(self, space_id: str, account_id: str) -> None:
        await self._write("connected", space_id, account_id, +1)

    async def disconnected(self, space_id: str, account_id: str) -> None:
        await self._write("disconnected", space_id, account_id, -1)

    async def _write(self, what: str, space_id: str, account_id: str, change: int) -> None:
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database went away")
        self.writes.append((what, space_id, account_id))
        key = (space_id, account_id)
        self.counts[key] = self.counts.get(key, 0) + change


def presence(store: Store) -> MediaPresence:
    return MediaPresence(store.connected, store.disconnected, retry_seconds=0.01)


async def settled(media: MediaPresence) -> None:
    async with asyncio.timeout(5):
        while not media.settled:
            await asyncio.sleep(0.005)


async def test_a_connection_is_counted_while_it_lasts() -> None:
    store = Store()
    media = presence(store)
    media.opened("s1", "ann")
    await settled(media)
    assert store.counts == {("s1", "ann"): 1}
    media.closed("s1", "ann")
    await settled(media)
    assert store.counts == {("s1", "ann"): 0}
    assert store.writes == [("connected", "s1", "ann"), ("disconnected", "s1", "ann")]


async def test_a_connection_replaced_before_the_writer_looks_is_one_count() -> None:
    store = Store()
    media = presence(store)
    media.opened("s1", "ann")
    await settled(media)
    # A client offering again: its connection goes and the next is kept, while a write of
    # someone else's holds the writer up.
    store.gate.clear()
    media.opened("s1", "bob")
    await asyncio.sleep(0.01)
    media.closed("s1", "ann")
    media.opened("s1", "ann")
    store.gate.set()
    await settled(media)
    assert store.counts == {("s1", "ann"): 1, ("s1", "bob"): 1}
    assert store.writes.count(("disconnected", "s1", "ann")) == 0


async def test_a_connection_gone_before_it_was_written_is_never_counted() -> None:
    store = Store()
    media = presence(store)
    store.gate.clear()
    media.opened("s1", "ann")
    media.opened("s2", "ann")
    await asyncio.sleep(0.01)  # the writer waits on the first write
    media.closed("s2", "ann")
    store.gate.set()
    await settled(media)
    # Whatever was written along the way, the store ends as the rooms are: a count of one in
    # s1, none in s2 (never below zero, never left behind).
    assert store.counts.get(("s1", "ann")) == 1
    assert store.counts.get(("s2", "ann"), 0) == 0


async def test_a_failed_write_is_tried_again() -> None:
    store = Store()
    store.failures = 2
    media = presence(store)
    media.opened("s1", "ann")
    await settled(media)
    assert store.counts == {("s1", "ann"): 1}


async def test_closing_waits_for_the_counts_to_be_taken_back() -> None:
    store = Store()
    media = presence(store)
    media.opened("s1", "ann")
    media.opened("s1", "bob")
    await settled(media)
    media.closed("s1", "ann")
    media.closed("s1", "bob")
    await media.close(timeout=5)
    assert store.counts == {("s1", "ann"): 0, ("s1", "bob"): 0}


@pytest.mark.parametrize("failing", [True, False])
async def test_closing_gives_up_after_its_timeout(failing: bool) -> None:
    store = Store()
    media = presence(store)
    if failing:
        store.failures = 10**6  # the database is gone for good
    else:
        store.gate.clear()  # a write that never returns
    media.opened("s1", "ann")
    async with asyncio.timeout(5):
        await media.close(timeout=0.1)
    assert store.counts == {}


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["open", "close", "fail", "pause"]), st.sampled_from(KEYS)),
        max_size=40,
    )
)
@settings(max_examples=200, deadline=None)
def test_whatever_happens_the_store_ends_as_the_rooms_are(
    steps: list[tuple[str, tuple[str, str]]],
) -> None:
    """Connections opened and closed in any order, writes failing and the writer held up at any
    point: once it settles, every key is counted exactly as often as a room holds it (0 or 1),
    and on the way never below zero or above one."""

    async def run() -> None:
        store = Store()
        media = presence(store)
        held: set[tuple[str, str]] = set()
        for what, key in steps:
            if what == "open":
                media.opened(*key)
                held.add(key)
            elif what == "close":
                media.closed(*key)
                held.discard(key)
            elif what == "fail":
                store.failures += 1
            else:
                await asyncio.sleep(0)  # let the writer run a step
        await settled(media)
        assert {k: v for k, v in store.counts.items() if v} == dict.fromkeys(held, 1)
        running: dict[tuple[str, str], int] = {}
        for what, space_id, account_id in store.writes:
            change = 1 if what == "connected" else -1
            running[(space_id, account_id)] = running.get((space_id, account_id), 0) + change
            assert running[(space_id, account_id)] in (0, 1), store.writes

    asyncio.run(run())
