"""Statements built once, at import, and run with their values by name.

Building a statement with SQLAlchemy's expression language costs more than running it. A select
of a space's participants among some accounts, 2,000 times on PostgreSQL (this machine, one
core): built on each call and run through SQLAlchemy, 530–620 µs of CPU; built once and run
through SQLAlchemy, 240–280 µs; built once and run straight on asyncpg, 135–150 µs. A join
rush's transaction is a dozen statements per batch, and the statements were most of its cost.

On PostgreSQL through asyncpg, a `Prebuilt` statement is compiled once by SQLAlchemy for the
connection's dialect, so its text is what SQLAlchemy would send, and runs on the driver itself:
each value goes through its column type's bind processor and each result column through its
result processor, as SQLAlchemy would convert them (`tests/integration/test_prebuilt.py` holds
both ways' rows equal). Elsewhere (SQLite) the same statement object runs through SQLAlchemy,
which then finds it in its compiled cache without rebuilding it.

A list of values for `among_named` goes as one array on PostgreSQL and as an IN list on
SQLite (store/among.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, ClauseElement, SelectBase

Process = Callable[[Any], Any]
# A parameter whose value the caller gives when the statement runs.
_GIVEN = object()


class RowLike(Protocol):
    """A row as the stores read it: its columns by name or as attributes (SQLAlchemy's Row
    reads the same)."""

    @property
    def _mapping(self) -> Mapping[Any, Any]: ...

    def __getattr__(self, name: str) -> Any: ...


class DriverRow:
    """A row asyncpg returned, as the stores read SQLAlchemy's: by attribute, or by name
    through `_mapping`."""

    __slots__ = ("_mapping",)

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self._mapping = columns

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class _Compiled:
    text: str
    # The statement's parameters in the order of its placeholders, each with its conversion
    # and, for one the statement holds itself (the 1 of `n + 1`), its value.
    params: tuple[tuple[str, Process | None, Any], ...]
    # Result columns that need converting, by name.
    results: tuple[tuple[str, Process], ...]


class Prebuilt:
    """`columns`: for an INSERT or UPDATE, the columns its values give (the statement is
    compiled for those alone, as SQLAlchemy compiles one for the keys it is given)."""

    def __init__(self, statement: ClauseElement, *, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self._columns = list(columns)
        self._compiled: _Compiled | None = None

    async def rows(self, conn: AsyncConnection, **values: Any) -> Sequence[RowLike]:
        driver = await _driver(conn)
        if driver is None:
            return list(await conn.execute(cast(Executable, self.statement), values))
        compiled = self._compile(conn.dialect)
        records = await driver.fetch(compiled.text, *_arguments(compiled, values))
        if not compiled.results:
            return [DriverRow(record) for record in records]
        return [_converted(record, compiled.results) for record in records]

    async def first(self, conn: AsyncConnection, **values: Any) -> RowLike | None:
        found = await self.rows(conn, **values)
        return found[0] if found else None

    async def run(self, conn: AsyncConnection, **values: Any) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        driver = await _driver(conn)
        if driver is None:
            result = await conn.execute(cast(Executable, self.statement), values)
            return int(result.rowcount)
        compiled = self._compile(conn.dialect)
        status: str = await driver.execute(compiled.text, *_arguments(compiled, values))
        # asyncpg answers with the command's tag: "UPDATE 3", "INSERT 0 3", "DELETE 1".
        return int(status.rsplit(" ", 1)[-1])

    async def run_many(self, conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each set of values (an INSERT's rows)."""
        if not rows:
            return
        driver = await _driver(conn)
        if driver is None:
            await conn.execute(cast(Executable, self.statement), list(rows))
            return
        compiled = self._compile(conn.dialect)
        await driver.executemany(compiled.text, [_arguments(compiled, row) for row in rows])

    def _compile(self, dialect: Dialect) -> _Compiled:
        # Compiled for asyncpg alone (what runs on the driver itself), the first time.
        if self._compiled is None:
            keys = self._columns or None
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect, column_keys=keys))
            if "POSTCOMPILE" in compiled.string:
                # Its text would change with the values: a list goes through store/among.py.
                raise ValueError(f"a statement with an IN list cannot be prebuilt: {compiled}")
            params = tuple(
                (name, bind.type.dialect_impl(dialect).bind_processor(dialect), _fixed(bind))
                for name in compiled.positiontup or ()
                for bind in [compiled.binds[name]]
            )
            self._compiled = _Compiled(compiled.string, params, _result_processors(self, dialect))
        return self._compiled


def _result_processors(prebuilt: Prebuilt, dialect: Dialect) -> tuple[tuple[str, Process], ...]:
    if not isinstance(prebuilt.statement, SelectBase):
        return ()
    found = []
    for name, column in prebuilt.statement.selected_columns.items():
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            found.append((name, process))
    return tuple(found)


def _fixed(bind: BindParameter[Any]) -> Any:
    return _GIVEN if bind.required else bind.effective_value


def _arguments(compiled: _Compiled, values: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        _converted_value(values[name] if fixed is _GIVEN else fixed, process)
        for name, process, fixed in compiled.params
    )


def _converted_value(value: Any, process: Process | None) -> Any:
    return value if process is None or value is None else process(value)


def _converted(record: Mapping[str, Any], results: tuple[tuple[str, Process], ...]) -> DriverRow:
    columns = dict(record)
    for name, process in results:
        value = columns[name]
        if value is not None:
            columns[name] = process(value)
    return DriverRow(columns)


async def _driver(conn: AsyncConnection) -> Any | None:
    """The asyncpg connection under `conn`, its transaction begun if `conn` is in one; None on
    any other driver. SQLAlchemy's asyncpg adapter sends BEGIN at its first statement: when a
    prebuilt one comes first, it is begun here the same way (the adapter's own method, which
    does nothing on an autocommit connection)."""
    if conn.dialect.driver != "asyncpg":
        return None
    adapter: Any = (await conn.get_raw_connection()).dbapi_connection
    if adapter._transaction is None:
        await adapter._start_transaction()
    return adapter.driver_connection
