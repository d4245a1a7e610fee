"""`among` (store/among.py): the same rows as an IN list on both databases, and on PostgreSQL
one statement text whatever the number of values, so that asyncpg prepares it once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from parley.store.among import among, among_named
from parley.store.db import Database
from parley.store.prebuilt import Prebuilt
from parley.store.tables import accounts
from tests.support.rows import stored_accounts

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
_NAMED = Prebuilt(select(accounts.c.id).where(among_named(accounts.c.id, "ids")))


async def test_among_finds_the_same_rows_on_both_databases(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        ids = await stored_accounts(db, 5, "among", T0)
        async with db.read() as conn:

            async def found(values: list[str]) -> set[str]:
                query = select(accounts.c.id).where(among(accounts.c.id, values))
                return set((await conn.execute(query)).scalars())

            assert await found([]) == set()
            assert await found(ids[:1]) == set(ids[:1])
            assert await found([*ids[1:4], "nobody"]) == set(ids[1:4])
            # A value longer than the column is not cut down to one that exists.
            assert await found([ids[0] + "0"]) == set()

            # The same with the values given when a statement built once runs (prebuilt.py).
            async def named(values: list[str]) -> set[str]:
                return {row.id for row in await _NAMED.rows(conn, ids=values)}

            assert await named([]) == set()
            assert await named([*ids[1:4], "nobody"]) == set(ids[1:4])
            assert await named([ids[0] + "0"]) == set()
    finally:
        await db.close()


def test_among_is_one_statement_text_on_postgresql_whatever_the_number_of_values() -> None:
    dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]

    def rendered(n: int) -> str:
        values = [str(i) for i in range(n)]
        query = select(accounts.c.id).where(among(accounts.c.id, values))
        return str(query.compile(dialect=dialect))

    assert rendered(1) == rendered(7) == rendered(50)
    assert "= ANY (" in rendered(1)


def test_string_values_go_as_text_which_asyncpg_decodes_without_asking_the_server() -> None:
    """asyncpg has text[] built in; varchar[] it looks up in the catalogue on every new
    connection (four round trips each), which a rush's first joins paid on every one."""
    query = select(accounts.c.id).where(among(accounts.c.id, ["a", "b"]))
    text = str(query.compile(dialect=asyncpg_dialect()))  # type: ignore[no-untyped-call]
    assert "::TEXT[]" in text and "VARCHAR" not in text
