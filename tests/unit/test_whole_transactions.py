"""A decision's whole transaction in one round trip to SQLite's writer thread, and the sweep's
reads in one to its reader thread (store/db.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'whole.db'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE notes (n INTEGER PRIMARY KEY)"))
    return database


async def notes(db: Database) -> list[int]:
    async with db.read() as conn:
        return [row.n for row in await conn.execute(text("SELECT n FROM notes ORDER BY n"))]


async def test_a_whole_transaction_runs_in_the_writer_thread_and_commits(db: Database) -> None:
    threads: list[str] = []

    async def work(conn: AsyncConnection) -> int:
        threads.append(threading.current_thread().name)
        await conn.execute(text("INSERT INTO notes VALUES (1)"))
        await conn.execute(text("INSERT INTO notes VALUES (:n)"), [{"n": 2}, {"n": 3}])
        return len((await conn.execute(text("SELECT n FROM notes"))).all())

    assert await db.write_whole(work) == 3
    assert threads[0].startswith("sqlite-writer")
    assert await notes(db) == [1, 2, 3]
    await db.close()


async def test_a_refusal_rolls_the_whole_transaction_back(db: Database) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO notes VALUES (1)"))
        raise LookupError("no such space")

    with pytest.raises(LookupError):
        await db.write_whole(work)
    assert await notes(db) == []
    await db.close()


async def test_a_transaction_that_would_wait_on_something_else_is_refused(db: Database) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO notes VALUES (1)"))
        await asyncio.sleep(0)  # would hand the writer thread to an event loop it has not got

    with pytest.raises(RuntimeError, match="awaited something other than its statements"):
        await db.write_whole(work)
    assert await notes(db) == []
    await db.close()


async def test_whole_transactions_and_the_other_writes_take_turns(db: Database) -> None:
    def whole(first: int) -> Callable[[AsyncConnection], Awaitable[None]]:
        async def work(conn: AsyncConnection) -> None:
            for n in range(first, first + 100, 2):
                await conn.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})

        return work

    async def others() -> None:
        for n in range(1, 200, 2):
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO notes VALUES (:n)"), {"n": n})

    await asyncio.gather(db.write_whole(whole(0)), others(), db.write_whole(whole(100)))
    assert await notes(db) == list(range(200))
    await db.close()


async def count(conn: AsyncConnection) -> tuple[int, str]:
    found = (await conn.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    return found, threading.current_thread().name


async def test_a_whole_read_runs_in_the_reader_thread_beside_an_open_write(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes VALUES (1)"))
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes VALUES (2)"))
        # The writer holds the database's lock: the read neither waits for it nor sees its row.
        found, thread = await asyncio.wait_for(db.read_whole(count), timeout=5)
        assert found == 1
        assert thread.startswith("sqlite-reader")
    assert (await db.read_whole(count))[0] == 2
    await db.close()


async def test_a_whole_read_that_would_wait_on_something_else_is_refused(db: Database) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT n FROM notes"))
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its statements"):
        await db.read_whole(work)
    assert (await db.read_whole(count))[0] == 0  # the reader thread is still there
    await db.close()
