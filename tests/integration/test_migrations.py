"""Data migrations, run on data the application wrote: the schema guard (test_schema_guard.py)
compares shapes only, and a migration that fills a new column from old data is checked here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Connection, insert, select, text

from parley.core.spaces.model import SpaceStatus
from parley.store.db import Database, migration_config
from parley.store.moderation import ModerationStore
from parley.store.restrictions import RestrictionStore
from parley.store.spaces import SpaceStore
from parley.store.tables import node_connections
from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve


@contextmanager
def node_then_stopped(database_url: str) -> Iterator[ServerThread]:
    """A node that writes the data a test then migrates, stopped before the migrations run, as
    nodes are for an upgrade (docs/operations.md): a running node's sweeps lock the same
    tables as the schema changes (PostgreSQL chose a sweep as a deadlock's victim here once;
    it might as well have chosen the migration)."""
    with serve(database_url=database_url) as running:
        yield running


def _alembic(connection: Connection, verb: str, revision: str) -> None:
    getattr(command, verb)(migration_config(connection), revision)


async def test_0013_gives_spaces_over_before_it_the_reason_their_last_event_gave(
    database_url: str,
) -> None:
    with node_then_stopped(database_url) as server:
        mod = await admin(server, "mod")
        host = await Person.sign_up(server.base_url, "host")
        finished = (await host.call("POST", "/spaces", 201, json={"title": "Finished"}))["id"]
        await host.call("POST", f"/spaces/{finished}/end", 200)
        alone = (await host.call("POST", "/spaces", 201, json={"title": "Alone"}))["id"]
        soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        body = {"title": "Later", "scheduled_start": soon}
        later = (await host.call("POST", "/spaces", 201, json=body))["id"]
        await suspend(mod, "host")
        lifted = {"reason": "Appeal upheld"}
        await mod.call("POST", "/admin/accounts/host/unsuspend", 200, json=lifted)
        for person in (mod, host):
            await person.close()
        url = server.settings.effective_database_url

    db = Database(url)
    try:
        async with db.read() as conn:
            written = {s: (await SpaceStore(conn).get(s)) for s in (finished, alone, later)}
        reasons = {s: space.end_reason for s, space in written.items() if space is not None}
        assert reasons[alone] == reasons[later] == "host_suspended", reasons
        assert reasons[finished] not in (None, "host_suspended"), reasons

        # A database from before 0013: the reasons only in the events. Back to head, they are
        # on the rows again, and the space moderation ended stays out of the public list.
        async with db.write() as conn:
            await conn.run_sync(_alembic, "downgrade", "0012")
        async with db.write() as conn:
            await conn.run_sync(_alembic, "upgrade", "head")
        async with db.read() as conn:
            store = SpaceStore(conn)
            again = {s: (await store.get(s)) for s in reasons}
            shown = await store.by_state(SpaceStatus.ENDED, limit=10, public=True)
        assert {s: space.end_reason for s, space in again.items() if space} == reasons
        assert [s.id for s in shown] == [finished]
    finally:
        await db.close()


async def test_0021_names_the_action_behind_each_restriction_from_before_it(
    database_url: str,
) -> None:
    """So that an overturned appeal of an older action does not lift a restriction imposed
    before 0021 by a later one."""
    with node_then_stopped(database_url) as server:
        mod = await admin(server, "mod")
        ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
        await suspend(mod, "ada")
        await mod.call("POST", "/admin/accounts/ada/unsuspend", 200, json={"reason": "Served"})
        await suspend(mod, "ada", reason="Again")
        body = {"rule": "spam", "reason": "Advertising"}
        await mod.call("POST", "/admin/accounts/ben/limit", 200, json=body)
        for person in (mod, ada, ben):
            await person.close()
        url = server.settings.effective_database_url

    db = Database(url)
    try:
        async with db.read() as conn:
            newest = {
                p.id: (await ModerationStore(conn).notices_of([p.id]))[0].notice.action_id
                for p in (ada, ben)
            }
            written = {p: await RestrictionStore(conn).restricted_by(p) for p in newest}
        assert written == newest
        async with db.write() as conn:
            await conn.run_sync(_alembic, "downgrade", "0020")
        async with db.write() as conn:
            await conn.run_sync(_alembic, "upgrade", "head")
        async with db.read() as conn:
            again = {p: await RestrictionStore(conn).restricted_by(p) for p in newest}
        assert again == newest
    finally:
        await db.close()


async def test_0023_keeps_each_nodes_count_of_connections_through_its_workers_rows(
    migrated_db: Database,
) -> None:
    """A node's workers count in rows of their own since 0023: back before it, one row a node
    holds their sum; forward again, worker 0 holds it (what a single process counted)."""
    rows = [("s1", "ada", "n1", 0, 1), ("s1", "ada", "n1", 2, 2), ("s1", "ben", "n1", 1, 1)]
    columns = ("space_id", "account_id", "node_id", "worker", "sockets")
    async with migrated_db.write() as conn:
        await conn.execute(
            insert(node_connections), [dict(zip(columns, r, strict=True)) for r in rows]
        )
        await conn.run_sync(_alembic, "downgrade", "0022")
    async with migrated_db.read() as conn:
        before = await conn.execute(
            text("SELECT account_id, node_id, sockets FROM node_connections ORDER BY 1")
        )
        assert [tuple(r) for r in before] == [("ada", "n1", 3), ("ben", "n1", 1)]
    async with migrated_db.write() as conn:
        await conn.run_sync(_alembic, "upgrade", "head")
    async with migrated_db.read() as conn:
        query = select(
            node_connections.c.account_id, node_connections.c.worker, node_connections.c.sockets
        ).order_by(node_connections.c.account_id)
        assert [tuple(r) for r in await conn.execute(query)] == [("ada", 0, 3), ("ben", 0, 1)]
