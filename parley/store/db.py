"""Connections and transactions, with the SQLite specifics kept in this one place."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from parley.store.sqlite_reads import Here, SqliteReaders, run_to_end

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"
# SQLite reader threads, each with its connection: enough for a burst of API reads to run
# beside the writer without queueing for long, few enough that idle threads cost nothing.
SQLITE_READERS = 8


class Database:
    """One engine for reads and one for writes.

    On SQLite there is one writer at a time anyway, so writes queue on an asyncio lock in this
    process and take the database lock up front (BEGIN IMMEDIATE): a transaction that reads and
    then writes can then never fail half-way with "database is locked". Reads run beside writes
    (WAL), in reader threads of their own (`sqlite_reads.py`). On PostgreSQL both engines share
    one pool, reads run outside a transaction, and rows are locked with SELECT ... FOR UPDATE.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self._prepare_sqlite_dir(url)
            self.write_engine = create_async_engine(url, pool_size=1, max_overflow=0)
            # No overflow: opening an SQLite connection (a thread, the file, the pragmas) costs
            # more than waiting a moment for a pooled one.
            # Only for reads that stream (a node loading its link rules at start-up).
            self.read_engine = create_async_engine(url, pool_size=1, max_overflow=0)
            for engine, immediate in ((self.write_engine, True), (self.read_engine, False)):
                self._tune_sqlite(engine.sync_engine, immediate=immediate)
            # The same database through the sqlite3 module, for whole transactions run in one
            # thread (`write_whole`); its one connection lives in that thread.
            self._whole_engine: Engine | None = create_engine(
                url.replace("+aiosqlite", "", 1), pool_size=1, max_overflow=0
            )
            self._tune_sqlite(self._whole_engine, immediate=True)
            self._writer: ThreadPoolExecutor | None = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-writer"
            )
            # And for reads, beside the writer (WAL): connections each living in its thread.
            readers = create_engine(
                url.replace("+aiosqlite", "", 1), pool_size=SQLITE_READERS, max_overflow=0
            )
            self._tune_sqlite(readers, immediate=False)
            self._readers: SqliteReaders | None = SqliteReaders(readers, SQLITE_READERS)
        else:
            # At most 30 connections a process, as before (10 kept, 20 more for a while), but
            # all kept once open: a connection opened for a burst and closed when it ended made
            # the server start a backend, asyncpg introspect types and every statement be
            # prepared again on it (a 1,000-join rush opened 30 and closed 26 of them).
            ended_if_idle = {"idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS}
            self.write_engine = create_async_engine(
                url, pool_size=30, max_overflow=0, connect_args={"server_settings": ended_if_idle}
            )
            _check_on_checkout(self.write_engine.sync_engine)
            # Reads outside a transaction, on the same pool: under READ COMMITTED each statement
            # sees its own snapshot whether or not a transaction wraps it, so BEGIN and the
            # ROLLBACK that ended every read were two round trips for nothing.
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
            self._whole_engine = None
            self._writer = None
            self._readers = None
        self._write_lock = asyncio.Lock()

    @staticmethod
    def _prepare_sqlite_dir(url: str) -> None:
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _tune_sqlite(engine: Engine, *, immediate: bool) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take over transaction control from the sqlite3 module so BEGIN is ours to issue.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends and rolls back if it raises."""
        if self.is_sqlite:
            async with self._write_lock, self.write_engine.begin() as conn:
                yield conn
        else:
            async with self.write_engine.begin() as conn:
                yield conn

    async def write_whole(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work` as one transaction, committed when it returns, rolled back if it raises.

        On SQLite the whole of it runs in one writer thread, one hand-off for the transaction
        instead of one per statement (each a thread hop, which under load waits for the GIL
        and the scheduler). `work` may await only its connection's `execute`: there it never
        suspends, and anything else that would is refused loudly. On PostgreSQL it is `write`.
        """
        if self._writer is None:
            async with self.write() as conn:
                return await work(conn)
        loop = asyncio.get_running_loop()
        async with self._write_lock:
            return await loop.run_in_executor(self._writer, self._run_whole, work)

    def _run_whole(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        assert self._whole_engine is not None
        with self._whole_engine.begin() as conn:
            # Stores use an AsyncConnection's `execute` and `dialect`, which this provides.
            return run_to_end(work(cast(AsyncConnection, Here(conn))))

    async def read_whole(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work`'s reads, on one snapshot, as `write_whole` runs a write: on SQLite in one
        hand-off to a reader thread, instead of one a statement (`read`). The sweep's
        questions, asked every second of every node, go this way. On PostgreSQL it is `read`."""
        if self._readers is None:
            async with self.read() as conn:
                return await work(conn)
        return await self._readers.whole(work)

    @asynccontextmanager
    async def read(self, *, streamed: bool = False) -> AsyncIterator[AsyncConnection]:
        """`streamed`: the block streams rows (`conn.stream`), through a cursor on the server,
        which PostgreSQL keeps only inside a transaction: that read has one, rolled back.
        (SQLite's reads are all in a transaction, and its write engine would lock the file.)"""
        if self._readers is not None and not streamed:
            async with self._readers.connection() as conn:
                yield conn
            return
        engine = self.write_engine if streamed and not self.is_sqlite else self.read_engine
        async with engine.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        async with self.write() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        if self._writer is not None:
            assert self._whole_engine is not None
            # The engine's connection belongs to the writer thread: closed there.
            await asyncio.get_running_loop().run_in_executor(
                self._writer, self._whole_engine.dispose
            )
            self._writer.shutdown()
            self._writer = None
        if self._readers is not None:
            await self._readers.close()
            self._readers = None
        await self.write_engine.dispose()
        if self.read_engine.sync_engine.pool is not self.write_engine.sync_engine.pool:
            await self.read_engine.dispose()


# A pooled connection idle for longer than this is pinged before use (see below).
IDLE_BEFORE_PING = 5.0

# How long PostgreSQL lets a session of ours sit in a transaction doing nothing before it ends
# it. A node stopped mid-transaction (SIGSTOP, a VM migrated, a process swapped out) otherwise
# holds that transaction's row locks for as long as it is stopped, and every other node's work on
# those rows waits behind it: taking a gone node's connections back, a suspension's withdrawals.
# Between their statements our transactions wait on nothing but the database; migrations, which
# load their scripts inside theirs, turn it off for their own (`_upgrade`).
IDLE_IN_TRANSACTION_MS = "5000"


def _check_on_checkout(engine: Engine) -> None:
    """A pooled PostgreSQL connection is checked before it is handed out, as `pool_pre_ping`
    did, without its three round trips (BEGIN, a ping, ROLLBACK) on every checkout.

    A connection the server closed (a restart, `pg_terminate_backend`, an idle timeout) has
    its socket closed, which asyncpg notices at once while it sits in the pool: that costs no
    round trip to see. A connection that lay idle for a while is still pinged, for what a
    closed socket does not show (a network that dropped it without a word). Either way the
    pool replaces it with a new one, and the request never sees the dead one.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if dbapi_conn.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since > IDLE_BEFORE_PING:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as error:
                raise DisconnectionError("this idle connection no longer answers") from error


def migration_config(connection: Connection) -> Config:
    """Alembic's configuration for our migrations, run on `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# Any number, the same on every node: the key of the lock migrating nodes take (below).
_MIGRATION_LOCK = 0x5041524C  # "PARL"


def _upgrade(connection: Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        # Nodes starting together (a new deployment, an upgrade rolled out to all at once) would
        # each run the same migrations, and all but one fail at start-up. The first to take the
        # lock migrates; the others wait, then find the schema at head and do nothing. The lock
        # goes with the transaction. (SQLite has one writer: its write lock does this.)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
    command.upgrade(migration_config(connection), "head")
