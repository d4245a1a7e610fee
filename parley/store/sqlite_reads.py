"""SQLite reads in threads of their own: each connection lives in one thread, and a statement
costs one hand-off to it, its rows fetched there.

Through aiosqlite a statement is four hand-offs (cursor, execute, fetch, close) and a read's
BEGIN and ROLLBACK two more, each a wake-up of the event loop: a node's view of a space (four
queries) took 5 ms of CPU that way. The event loop never waits for SQLite itself either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Connection, Result
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


class SqliteReaders:
    """`size` read connections, each in a thread of its own; a read takes one for its block
    (one snapshot: BEGIN at its first statement, ROLLBACK at its end), waiting for one to be
    free as a pool's checkout does."""

    def __init__(self, engine: Engine, size: int) -> None:
        self._engine = engine
        self._readers = [_Reader(engine) for _ in range(size)]
        self._free: asyncio.Queue[_Reader] = asyncio.Queue()
        for reader in self._readers:
            self._free.put_nowait(reader)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose `execute` and `run_sync` run in its thread (stores use only
        `execute` and `dialect`)."""
        reader = await self._take()
        try:
            yield cast(AsyncConnection, reader)
        finally:
            await self._give_back(reader)

    async def whole(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`work`, which awaits nothing but its statements, run whole in one hand-off."""
        reader = await self._take()
        try:
            return await reader.whole(work)
        finally:
            await self._give_back(reader)

    async def _take(self) -> _Reader:
        reader = await self._free.get()
        reader.fresh = True
        return reader

    async def _give_back(self, reader: _Reader) -> None:
        try:
            await reader.end()
        finally:
            # Back even if its ROLLBACK was given up on: the next read's first statement
            # rolls back whatever this one left open.
            self._free.put_nowait(reader)

    async def close(self) -> None:
        for reader in self._readers:
            await reader.close()
        self._engine.dispose()


class _Reader:
    """One connection and the one thread it lives in. Its hand-offs run in order in that
    thread, so the ROLLBACK that ends a read waits for a statement whose caller gave up. A
    read's first hand-off rolls back first (`fresh`): a read given up on before its ROLLBACK
    ran leaves no old snapshot to the next."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dialect = engine.dialect
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        self._conn: Connection | None = None
        self._used = False
        self.fresh = False

    async def _hop(self, function: Callable[..., T], *args: Any) -> T:
        self._used = True
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def _connection(self, fresh: bool) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        elif fresh:
            self._conn.rollback()  # nothing to do (no SQL) unless a read left it open
        return self._conn

    async def execute(self, statement: Any, parameters: Any = None) -> Result[Any]:
        fresh, self.fresh = self.fresh, False
        return await self._hop(self._execute, statement, parameters, fresh)

    def _execute(self, statement: Any, parameters: Any, fresh: bool) -> Result[Any]:
        result = self._connection(fresh).execute(statement, parameters)
        # Rows fetched here, in the connection's thread: what the caller reads is a copy.
        return result.freeze()() if result.returns_rows else result

    async def run_sync(self, function: Callable[..., T], *args: Any) -> T:
        """`function(connection, *args)`, in the connection's thread, as AsyncConnection's."""
        fresh, self.fresh = self.fresh, False
        return await self._hop(self._run_sync, function, args, fresh)

    def _run_sync(self, function: Callable[..., T], args: tuple[Any, ...], fresh: bool) -> T:
        return function(self._connection(fresh), *args)

    async def whole(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        fresh, self.fresh = self.fresh, False
        return await self._hop(self._whole, work, fresh)

    def _whole(self, work: Callable[[AsyncConnection], Awaitable[T]], fresh: bool) -> T:
        return run_to_end(work(cast(AsyncConnection, Here(self._connection(fresh)))))

    async def end(self) -> None:
        if self._used:
            self._used = False
            await asyncio.get_running_loop().run_in_executor(self._thread, self._rollback)

    def _rollback(self) -> None:
        if self._conn is not None:
            self._conn.rollback()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Here:
    """An AsyncConnection's `execute` and `dialect` over a sync connection: awaiting
    `execute` runs the statement there and then."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)


def run_to_end(work: Awaitable[T]) -> T:
    """Run a coroutine that never suspends to its end, here, without an event loop."""
    coroutine = cast(Coroutine[Any, Any, T], work)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("a whole transaction awaited something other than its statements")
