"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from parley.core.text import storable


def storable_key(key: str) -> bool:
    """Whether a key taken from a URL could name a stored row at all: lookups answer "not
    found" for one that could not, without asking the database (which would refuse it)."""
    return storable(key)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; SQLite would otherwise drop the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class utc_month(FunctionElement[str]):
    """The month of a UTCDateTime column, as `YYYY-MM` in UTC, computed by the database: to
    count rows per month without reading them (one expression per dialect, below)."""

    type = String()
    inherit_cache = True
    name = "utc_month"


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC text (UTCDateTime), which strftime reads.
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"
