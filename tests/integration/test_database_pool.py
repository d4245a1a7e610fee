"""The database layer's connections on PostgreSQL (store/db.py): a connection the server closed
is replaced before a request sees it, an idle one that no longer answers its ping likewise,
reads run outside a transaction, and a transaction left doing nothing (its node stopped) is
ended by the server rather than holding its locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from parley.store import db as db_module
from parley.store.db import Database
from tests.support.servers import POSTGRES_ADMIN_URL, fresh_postgres_database, wait_until


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    """The database layer on a fresh PostgreSQL database of its own."""
    async with fresh_postgres_database() as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.close()


async def _backend(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.mark.postgres
async def test_connections_the_server_closed_are_replaced_before_use(db: Database) -> None:
    # Three connections in the pool, then the server ends them all (as a restart would).
    async with db.read() as a, db.read() as b, db.read() as c:
        for conn in (a, b, c):
            await conn.execute(text("SELECT 1"))
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        held = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            db.write_engine.url.database,
        )
        pids = [row["pid"] for row in held]
        ended = await admin.fetchval(
            "SELECT count(*) FROM unnest($1::int[]) AS pid WHERE pg_terminate_backend(pid)", pids
        )
        assert ended >= 3

        # pg_terminate_backend only signals each backend: on a busy machine they take a while
        # to act on it, and a connection used before its backend has gone is still in use.
        async def backends_gone() -> bool:
            query = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])"
            left: int = await admin.fetchval(query, pids)
            return left == 0

        await wait_until(backends_gone, timeout=10)
    finally:
        await admin.close()
    await asyncio.sleep(0.2)  # the pool's connections lie idle a moment, as they do

    async def read_and_write() -> None:
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
        async with db.write() as conn:
            await conn.execute(text("SELECT 1"))

    await asyncio.gather(*(read_and_write() for _ in range(5)))


@pytest.mark.postgres
async def test_an_idle_connection_that_fails_its_ping_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend(db)
    monkeypatch.setattr(db_module, "IDLE_BEFORE_PING", 0.0)
    pings: list[object] = []

    def first_unanswered(dbapi_conn: Any) -> bool:
        pings.append(dbapi_conn)
        if len(pings) == 1:
            raise ConnectionResetError("no answer")
        return True

    monkeypatch.setattr(db.write_engine.sync_engine.dialect, "do_ping", first_unanswered)
    await asyncio.sleep(0.01)
    second = await _backend(db)
    assert pings
    assert second != first


@pytest.mark.postgres
async def test_reads_run_outside_a_transaction(db: Database) -> None:
    xact = text("SELECT pg_current_xact_id()::text")  # gives the transaction an id
    async with db.read() as conn:
        # Each statement its own transaction: no BEGIN, no ROLLBACK.
        ids = [(await conn.execute(xact)).scalar_one() for _ in range(2)]
        assert ids[0] != ids[1]
    async with db.write() as conn:
        ids = [(await conn.execute(xact)).scalar_one() for _ in range(2)]
        assert ids[0] == ids[1]


@pytest.mark.postgres
async def test_a_streamed_read_has_the_transaction_its_cursor_needs(db: Database) -> None:
    async with db.read(streamed=True) as conn:
        result = await conn.stream(text("SELECT generate_series(1, 3)"))
        assert [row[0] async for row in result] == [1, 2, 3]


@pytest.mark.postgres
async def test_a_transaction_left_idle_is_ended_and_its_row_locks_let_go(db: Database) -> None:
    """A node stopped in the middle of a transaction (SIGSTOP, a VM migrated) held its row locks
    for as long as it was stopped, and another node's write to those rows waited all that time
    (in a loaded run, test_dead_node_presence's paused node kept the other's sweep from taking
    its connections back). PostgreSQL now ends such a session, and the write goes through."""
    async with db.write() as conn:
        await conn.execute(text("CREATE TABLE held (id int PRIMARY KEY, n int)"))
        await conn.execute(text("INSERT INTO held VALUES (1, 0)"))
    other = Database(db.url)
    locked, resumed = asyncio.Event(), asyncio.Event()

    async def stopped_mid_transaction() -> None:
        async with db.write() as conn:
            await conn.execute(text("UPDATE held SET n = 1 WHERE id = 1"))
            locked.set()
            await resumed.wait()  # stopped: the server sees a transaction doing nothing
            await conn.execute(text("UPDATE held SET n = 3 WHERE id = 1"))

    paused = asyncio.create_task(stopped_mid_transaction())
    try:
        await locked.wait()
        idle = int(db_module.IDLE_IN_TRANSACTION_MS) / 1000
        async with asyncio.timeout(idle + 10):  # for ever before
            async with other.write() as conn:
                await conn.execute(text("UPDATE held SET n = 2 WHERE id = 1"))
        # Running again, the stopped node finds its session ended: nothing of it is kept. (What
        # asyncpg says depends on whether it has read the server's goodbye yet.)
        resumed.set()
        with pytest.raises(DBAPIError):
            await paused
        async with db.read() as conn:  # and its pool has a live connection for what comes next
            assert (await conn.execute(text("SELECT n FROM held"))).scalar_one() == 2
    finally:
        resumed.set()
        await asyncio.gather(paused, return_exceptions=True)
        await other.close()
