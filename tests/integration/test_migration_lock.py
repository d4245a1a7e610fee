"""Nodes that start together on a database the newest schema has not reached yet (a new
deployment, or an upgrade rolled out to several nodes at once) migrate it once between them:
each waits for the one migrating, then finds the schema there and starts. Before, all but one
failed at start-up on PostgreSQL (two `CREATE TABLE`s of the same name)."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import Connection, inspect

from parley.store.db import Database, migration_config


def _to_base(connection: Connection) -> None:
    command.downgrade(migration_config(connection), "base")


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_nodes_starting_together_migrate_the_database_once(database_url: str) -> None:
    first = Database(database_url)
    try:
        await first.migrate()
        async with first.write() as conn:
            await conn.run_sync(_to_base)
        async with first.read() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}
    finally:
        await first.close()

    nodes = [Database(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(node.migrate() for node in nodes))
        async with nodes[0].read() as conn:
            assert {"accounts", "spaces", "held_limits"} <= await conn.run_sync(_tables)
    finally:
        for node in nodes:
            await node.close()
