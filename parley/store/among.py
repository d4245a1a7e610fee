"""`among(column, values)`: the column is one of the values, in one statement text whatever
their number.

`column.in_(values)` renders one placeholder per value, so on PostgreSQL every new number of
values is a new statement text, which asyncpg prepares again on each connection (a round trip
and the server's parse) and which pushes the statements used on every request out of its
cache: a rush of joins in batches of 1 to 50 accounts prepared a statement for almost every
second join (PostgreSQL's log, 128 of the 145 texts prepared in a 1,000-join rush were such
lists). There the values go as one array, `column = ANY($1::TEXT[])`; SQLite has no arrays
and keeps the IN list (its statement cache is in-process and cheap to miss).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Boolean, ColumnElement, String, Text, any_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class Among(ColumnElement[bool]):
    """Both renderings are built up front; the dialect's compiler picks one. Both are in the
    cache key, so a compiled statement is reused for any values, and the values of the one
    not rendered are simply not sent."""

    __visit_name__ = "parley_among"
    inherit_cache = True
    type = Boolean()
    # A condition in itself: SQLite, without a boolean type, would otherwise test it `= 1`.
    _is_implicitly_boolean = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (SQLAlchemy reads it so)
        ("listed", InternalTraversal.dp_clauseelement),
        ("as_array", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, listed: ColumnElement[bool], as_array: ColumnElement[bool]) -> None:
        self.listed = listed
        self.as_array = as_array


# VARCHAR(32)[] would cut a longer value to 32 characters (a cast truncates), which could then
# match: an array of strings is of unbounded strings, as the IN list's are. TEXT[], not VARCHAR[]:
# asyncpg decodes text[] from the start but looks varchar[] up in the server's catalogue on each
# new connection (jit off, the query, jit back: four round trips and the server planning it),
# which a rush's first thousand joins paid on every pooled connection. A VARCHAR column compares
# with text as it is (PostgreSQL has no varchar operators), its index used.
_STRINGS = ARRAY(Text())
# One array type per item type, made once: SQLAlchemy memoizes a type's cache key and its
# dialect implementation (bind processor included) on the type object, so a new ARRAY per
# statement had both worked out again on every execution (py-spy, a PostgreSQL join rush).
_ARRAYS: dict[TypeEngine[Any], ARRAY[Any]] = {}


def _array_of(item: TypeEngine[Any]) -> ARRAY[Any]:
    if isinstance(item, String):
        return _STRINGS
    array = _ARRAYS.get(item)
    if array is None:
        array = _ARRAYS[item] = ARRAY(item)
    return array


def among(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    values = list(values)
    array = bindparam(None, values, type_=_array_of(column.type))
    return Among(column.in_(values), column == any_(array))


def among_named(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`among` with its values a parameter called `name` (a list), given when the statement
    runs: for a statement built once (store/prebuilt.py)."""
    listed = column.in_(bindparam(name, expanding=True))
    return Among(listed, column == any_(bindparam(name, type_=_array_of(column.type))))


@compiles(Among)
def _listed(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.listed, **kw)


@compiles(Among, "postgresql")
def _as_array(element: Among, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.as_array, **kw)
