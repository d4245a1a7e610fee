"""SQLite reads in threads of their own (store/sqlite_reads.py): each read one snapshot, a
statement one hand-off, and a read its caller gave up on leaves nothing behind."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from parley.store.db import Database

READERS = 8


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE notes (n INTEGER PRIMARY KEY)"))
    try:
        yield database
    finally:
        await database.close()


async def add(db: Database, n: int) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})


async def count(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one())


async def test_a_read_is_one_snapshot_and_the_next_read_sees_what_was_written(
    db: Database,
) -> None:
    await add(db, 1)
    async with db.read() as conn:
        first = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
        await add(db, 2)  # committed while the read is open (WAL: the writer does not wait)
        again = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
        rows = (await conn.execute(text("SELECT n FROM notes ORDER BY n"))).scalars().all()
    assert (first, again, rows) == (1, 1, [1])
    assert await count(db) == 2


async def test_statements_run_in_the_reader_threads_never_on_the_event_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    execute = Connection.execute

    def watched(self: Connection, *args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", watched)
    assert await count(db) == 0
    assert threads and all(name.startswith("sqlite-reader") for name in threads), threads


async def test_more_reads_at_once_than_connections_wait_their_turn(db: Database) -> None:
    await add(db, 1)
    counts = await asyncio.gather(*(count(db) for _ in range(3 * READERS)))
    assert counts == [1] * (3 * READERS)


async def test_a_read_given_up_mid_statement_leaves_its_connection_clean(db: Database) -> None:
    # Every connection's read is cancelled during its statement: whatever the threads were
    # doing, each connection's snapshot ends, and the next reads see the newest rows.
    await add(db, 1)
    slow = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
        "SELECT count(*) FROM c, notes"
    )

    async def given_up() -> None:
        async with db.read() as conn:
            await conn.execute(slow)

    tasks = [asyncio.create_task(given_up()) for _ in range(READERS)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await add(db, 2)
    assert await asyncio.gather(*(count(db) for _ in range(READERS))) == [2] * READERS
