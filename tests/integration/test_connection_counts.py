"""Each worker's tally of the connections it counted (services/connection_counts.py): written
again when another node took its counts back while it was alive, never over a count whose
transaction is still on its way to the tally; and a worker started again takes back only what
its own previous life counted, not its siblings'."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import ColumnElement, literal_column, select

from parley.core.homing import NodeInfo
from parley.services.connection_counts import DOUBTFUL_CHECKS, ConnectionCounts
from parley.store.connections import Holder, release_node
from parley.store.db import Database
from parley.store.homes import HomeStore
from parley.store.presence import PresenceStore
from parley.store.tables import node_connections

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LATER = timedelta(seconds=30)


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


async def stored(db: Database) -> dict[tuple[str, str, int], int]:
    """(account, node, worker): sockets, as the store counts them."""
    t = node_connections
    async with db.read() as conn:
        rows = await conn.execute(select(t.c.account_id, t.c.node_id, t.c.worker, t.c.sockets))
        return {(r.account_id, r.node_id, r.worker): r.sockets for r in rows}


async def test_counts_taken_from_a_live_node_are_written_again(db: Database) -> None:
    counts = ConnectionCounts(db, Holder("n1"))
    for account_id in ("ada", "ada", "ben", "cy"):
        await counts.opened("space", account_id)
    await counts.closed("space", "cy", T0)
    assert await counts.check() == 0  # nothing lost: nothing written
    held = {("ada", "n1", 0): 2, ("ben", "n1", 0): 1}
    assert await stored(db) == held

    async with db.write() as conn:  # another node, taking n1 for gone
        assert await release_node(conn, "n1", since=T0) == 3
    assert await stored(db) == {}
    assert await counts.check() == 3
    assert await stored(db) == held
    # And what it counts from then on adds to what it wrote.
    await counts.closed("space", "ada", T0)
    assert await counts.check() == 0
    assert await stored(db) == {("ada", "n1", 0): 1, ("ben", "n1", 0): 1}


async def test_a_recount_waits_for_a_count_on_its_way_to_the_tally(db: Database) -> None:
    counts = ConnectionCounts(db, Holder("n1"))
    for _ in range(2):
        await counts.opened("space", "ada")
    async with db.write() as conn:
        await release_node(conn, "n1", since=T0)
    committed, finish = asyncio.Event(), asyncio.Event()

    async def slow_count() -> None:
        async with counts.counting() as changes:
            async with db.write() as conn:
                await PresenceStore(conn).connected("space", "ben", counts.holder)
            changes.opened("space", ["ben"])
            committed.set()
            await finish.wait()  # committed, not yet in the tally

    counting = asyncio.create_task(slow_count())
    await committed.wait()
    # While it is under way, the store cannot be told from the tally: nothing is written...
    for _ in range(DOUBTFUL_CHECKS - 1):
        assert await counts.check() == 0
    assert await stored(db) == {("ben", "n1", 0): 1}
    # ...until enough such looks in a row, and then only once the count is through.
    recount = asyncio.create_task(counts.check())
    await asyncio.sleep(0.05)
    assert not recount.done()
    finish.set()
    await counting
    assert await recount == 2
    assert await stored(db) == {("ada", "n1", 0): 2, ("ben", "n1", 0): 1}


async def test_a_worker_started_again_takes_back_only_its_own_previous_counts(
    db: Database,
) -> None:
    first, second = ConnectionCounts(db, Holder("n1", 0)), ConnectionCounts(db, Holder("n1", 1))
    for counts in (first, second):
        await counts.opened("space", "ada")
    await second.opened("space", "ben")

    again = ConnectionCounts(db, Holder("n1", 1))  # worker 1, killed and started again
    assert await again.release_previous_life(T0) == 2
    assert await stored(db) == {("ada", "n1", 0): 1}
    assert await first.check() == 0  # worker 0's count was never touched


async def test_a_rush_that_makes_every_look_doubtful_rewrites_nothing_it_did_not_lose(
    db: Database,
) -> None:
    """Counts landing while the store is read make a comparison doubtful; the recount that
    settles a run of them compares again, alone, and leaves rows that add up as they are
    (rewriting a rush's thousands of rows would hold its joins up for nothing)."""
    counts = ConnectionCounts(db, Holder("n1"))
    for account_id in ("ada", "ben"):
        await counts.opened("space", account_id)
    # Another node's row after them: SQLite numbers rows anew from the highest left, so a
    # rewrite shows there too.
    await ConnectionCounts(db, Holder("n2")).opened("space", "zed")
    place: ColumnElement[object] = literal_column("rowid" if db.is_sqlite else "ctid")

    async def places() -> list[str]:
        async with db.read() as conn:
            rows = await conn.execute(select(place).select_from(node_connections))
            return sorted(str(p) for p in rows.scalars())

    before = await places()
    finish = asyncio.Event()

    async def slow_count() -> None:
        async with counts.counting() as changes:
            async with db.write() as conn:
                await PresenceStore(conn).connected("space", "cy", counts.holder)
            changes.opened("space", ["cy"])
            await finish.wait()

    counting = asyncio.create_task(slow_count())
    await asyncio.sleep(0.05)
    for _ in range(DOUBTFUL_CHECKS - 1):
        assert await counts.check() == 0
    settling = asyncio.create_task(counts.check())
    await asyncio.sleep(0.05)
    finish.set()
    await counting
    assert await settling == 0
    assert counts.recounts == 0
    after = await places()
    assert before == [p for p in after if p in before] and len(after) == 4


async def test_a_node_back_from_a_pause_says_so_before_it_counts_again(db: Database) -> None:
    """Taken for gone while paused, n1 comes back: it advertises itself before writing its
    counts again, and a release another node decided on its old advertisement (read before,
    carried out after) takes nothing back from it (its participants would have been let go)."""
    counts = ConnectionCounts(db, Holder("n1"))
    await counts.opened("space", "ada")
    async with db.write() as conn:
        await HomeStore(conn).advertise(NodeInfo("n1", "http://n1", 0, T0))
        assert await release_node(conn, "n1", since=T0) == 1  # taken for gone

    async def advertise() -> None:
        assert await stored(db) == {}  # said alive before anything is counted again
        async with db.write() as conn:
            await HomeStore(conn).advertise(NodeInfo("n1", "http://n1", 0, T0 + LATER))

    assert await counts.check(before_recount=advertise) == 1
    async with db.write() as conn:  # the other node, on what it read before
        assert await release_node(conn, "n1", since=T0) == 0
    assert await stored(db) == {("ada", "n1", 0): 1}
