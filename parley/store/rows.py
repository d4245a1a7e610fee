"""What every store does with rows: look one up or list them, turn a row into a record and a
record into column values, insert unless present."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from enum import Enum
from functools import cache
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Executable, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.among import among
from parley.store.prebuilt import RowLike
from parley.store.types import storable_key

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")
# A row's values by column name, as SQLAlchemy takes them: only inside the store.
Columns = dict[str, object]
R = TypeVar("R", bound="DataclassInstance")


class Store:
    """Reads and writes in the caller's connection, inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _first(self, query: Executable, convert: Callable[[RowLike], T]) -> T | None:
        row = (await self.conn.execute(query)).first()
        return None if row is None else convert(row)

    async def _all(self, query: Executable, convert: Callable[[RowLike], T]) -> list[T]:
        return [convert(row) for row in await self.conn.execute(query)]

    async def _by_id(self, table: Table, key: str, convert: Callable[[RowLike], T]) -> T | None:
        """The row whose `id` is `key`; a key no row could have is simply not found."""
        if not storable_key(key):
            return None
        return await self._first(select(table).where(table.c.id == key), convert)

    async def _by_ids(
        self, table: Table, keys: Collection[str], convert: Callable[[RowLike], T]
    ) -> dict[str, T]:
        """The rows whose `id` is among `keys`, by id: one query, however many."""
        wanted = [key for key in keys if storable_key(key)]
        if not wanted:
            return {}
        rows = await self.conn.execute(select(table).where(among(table.c.id, wanted)))
        return {row.id: convert(row) for row in rows}


def record(cls: type[R], row: RowLike, **converted: Any) -> R:
    """A `cls` from the row's columns of the same names as its fields, an enum field from its
    value; `converted` gives the fields whose column needs other turning (a tuple)."""
    columns = row._mapping
    plain = {
        name: columns[name] if enum is None or columns[name] is None else enum(columns[name])
        for name, enum in _fields(cls).items()
        if name not in converted
    }
    return cls(**plain, **converted)


def columns_of(instance: DataclassInstance, **converted: object) -> Columns:
    """The reverse of `record`: a record's fields as column values, an enum as its value."""
    plain = {name: _column_value(getattr(instance, name)) for name in _fields(type(instance))}
    return plain | converted


def _column_value(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


@cache
def _fields(cls: type[DataclassInstance]) -> dict[str, type[Enum] | None]:
    """Each field's name, with the enum it holds (alone or with None) if it holds one."""
    hints = get_type_hints(cls)
    return {f.name: _enum_in(hints[f.name]) for f in dataclasses.fields(cls)}


def _enum_in(hint: object) -> type[Enum] | None:
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    enums = [o for o in options if isinstance(o, type) and issubclass(o, Enum)]
    return enums[0] if len(enums) == 1 else None


async def insert_ignoring_duplicate(conn: AsyncConnection, table: Table, values: Columns) -> bool:
    """Insert unless a row with the same key exists; True when a row was added."""
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    result = await conn.execute(dialect(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


async def upsert(conn: AsyncConnection, table: Table, key: Columns, values: Columns) -> None:
    """Write the row whose primary key is `key` with `values`, whether it exists or not, in
    one statement: two writers of a row not yet there both succeed (the later one's values
    stay) rather than one breaking the key."""
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    statement = dialect(table).values(**key, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))
