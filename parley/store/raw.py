"""Statements on a join's path run on asyncpg directly (PostgreSQL only).

Through SQLAlchemy a statement costs its construction, its cache key, an execution context and
a Row per result row on top of asyncpg's own work: for the session lookup of a join's first
request (a rush's lookups share batches of about three tokens), about 0.75 ms of CPU where
asyncpg alone takes 0.2 (a loop of 2,000 on this machine, pooled connection checkout included). A
`Raw` statement is built and compiled once, by SQLAlchemy and for its asyncpg dialect, so its
text is what SQLAlchemy would send; each run hands asyncpg that text and the values.

What it leaves out is SQLAlchemy's conversion of values: only for statements whose parameters
asyncpg takes as they are (strings, lists of strings) and whose columns it returns as SQLAlchemy
would (text, booleans, UTC timestamps as aware UTC datetimes, what `UTCDateTime` gives):
`tests/integration/test_raw.py` compares both ways' rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class RawRow:
    """A row as the stores read SQLAlchemy's: by attribute, or by name through `_mapping`."""

    __slots__ = ("_mapping",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._mapping = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


class Raw:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: tuple[str, Sequence[str]] | None = None

    def _text(self, dialect: Dialect) -> tuple[str, Sequence[str]]:
        if self._compiled is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            self._compiled = compiled.string, list(compiled.positiontup or ())
        return self._compiled

    async def rows(self, conn: AsyncConnection, **values: Any) -> list[RawRow]:
        """The statement's rows, run on `conn`'s asyncpg connection, in its transaction if it
        has begun one. `values` by the names of the statement's bind parameters."""
        if conn.dialect.name != "postgresql" or conn.dialect.driver != "asyncpg":
            raise RuntimeError("Raw statements run on PostgreSQL through asyncpg only")
        text, names = self._text(conn.dialect)
        driver: Any = (await conn.get_raw_connection()).driver_connection
        return [RawRow(record) for record in await driver.fetch(text, *(values[n] for n in names))]
