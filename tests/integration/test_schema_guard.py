"""The schema the migrations build is the schema `parley/store/tables.py` describes.

The code queries through the tables' metadata, while a database is only ever built by the
migrations: an index, a type, a default or a constraint changed in one and not the other can
pass every other test and still leave deployed databases unlike what the code expects. Alembic's
`compare_metadata` reads the migrated database back and lists what differs from the metadata.

It cannot see everything: the audit log's append-only triggers (the baseline migration, 0011)
and the function behind them are not part of the metadata at all, and alembic compares neither
CHECK constraints nor data migrations. The security tests (test_audit_tamper.py) hold the
triggers to their word instead.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, DefaultClause, Index, MetaData, String
from sqlalchemy.engine import Connection

from parley.store.db import Database
from parley.store.tables import metadata


def _same_literal_default(
    _context: MigrationContext,
    _inspected_column: Column[Any],
    _metadata_column: Column[Any],
    inspected_default: str | None,
    metadata_default: Any,
    _rendered_metadata_default: str | None,
) -> bool | None:
    """A string default in the tables is the same as the database's if the database holds it
    as that string's SQL literal. SQLAlchemy reflects SQLite's DEFAULT '' as `('')` (its
    pattern for a quoted literal wants one character at least), and alembic's SQLite
    comparison then unwraps the parentheses but not the quotes, so it would report every
    empty-string default (accounts.bio, spaces.description) as changed although both sides
    read DEFAULT ''. PostgreSQL reflects a literal with its cast (`'[]'::json`), and alembic
    would compare that by asking the database whether the two are equal, which json cannot say
    (spaces.pinned): the literal before the cast is what is compared. Anything else is left to
    alembic (None)."""
    if isinstance(metadata_default, DefaultClause) and isinstance(metadata_default.arg, str):
        literal = "'" + metadata_default.arg.replace("'", "''") + "'"
        if inspected_default in (literal, f"({literal})"):
            return False
        if inspected_default is not None and inspected_default.startswith(literal + "::"):
            return False
    return None


def _differences(conn: Connection, target: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        conn,
        opts={"compare_type": True, "compare_server_default": _same_literal_default},
    )
    differences: list[Any] = compare_metadata(context, target)
    return differences


async def _migrated_differences(database_url: str, target: MetaData) -> list[Any]:
    db = Database(database_url)
    try:
        await db.migrate()
        async with db.read() as conn:
            return await conn.run_sync(_differences, target)
    finally:
        await db.close()


async def test_the_migrations_build_exactly_the_tables_the_code_describes(
    database_url: str,
) -> None:
    differences = await _migrated_differences(database_url, metadata)
    assert differences == [], (
        "the migrated database differs from parley/store/tables.py; write a migration "
        f"(or fix the table) for: {differences}"
    )


def _drifted() -> MetaData:
    """The tables as someone might leave them: a column, an index and a default changed in the
    code with no migration to match."""
    drifted = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    accounts = drifted.tables["accounts"]
    accounts.append_column(Column("pronouns", String(20), nullable=True))
    Index("ix_accounts_display_name", accounts.c.display_name)
    accounts.c.state.server_default = DefaultClause("pending")
    return drifted


async def test_the_guard_names_a_column_an_index_and_a_default_without_a_migration(
    database_url: str,
) -> None:
    differences = await _migrated_differences(database_url, _drifted())
    # Column changes come grouped in a list per column, the rest one tuple each.
    flat = [d for group in differences for d in (group if isinstance(group, list) else [group])]
    named = sorted(_name(d) for d in flat)
    assert named == [
        "add_column accounts.pronouns",
        "add_index ix_accounts_display_name",
        "modify_default accounts.state",
    ], differences


def _name(difference: tuple[Any, ...]) -> str:
    kind = difference[0]
    if kind == "add_column":
        return f"{kind} {difference[2]}.{difference[3].name}"
    if kind == "add_index":
        return f"{kind} {difference[1].name}"
    if kind == "modify_default":
        return f"{kind} {difference[2]}.{difference[3]}"
    return repr(difference)
