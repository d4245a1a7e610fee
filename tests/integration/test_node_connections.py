"""Each node's connections, counted per participant in PostgreSQL (store/connections.py): a
dead node's are taken back once, however many nodes release it at the same moment, and what
other nodes hold stays counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from parley.core.homing import NodeInfo
from parley.store.connections import Holder, nodes_gone_since, release_node
from parley.store.db import Database
from parley.store.homes import HomeStore
from parley.store.presence import PresenceStore
from parley.store.tables import node_connections, participants
from tests.support.clients import Person
from tests.support.servers import fresh_postgres_database, serve

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


async def test_a_dead_nodes_sockets_are_taken_back_once_and_the_others_stay() -> None:
    async with fresh_postgres_database() as url:
        with serve(database_url=url) as server:
            host = await Person.sign_up(server.base_url, "host")
            listener = await Person.sign_up(server.base_url, "lis")
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Counted"}))["id"]
            await listener.call("POST", f"/spaces/{sid}/join", 200)
            for person in (host, listener):
                await person.close()
        db = Database(url)
        me = listener.id
        row = (participants.c.space_id == sid) & (participants.c.account_id == me)

        async def counted() -> tuple[int, datetime | None, dict[str, int]]:
            async with db.read() as conn:
                p = (await conn.execute(select(participants).where(row))).one()
                per_node = {
                    r.node_id: r.sockets for r in await conn.execute(select(node_connections))
                }
                return sum(per_node.values()), p.disconnected_at, per_node

        async def release(node_id: str) -> int:
            async with db.write() as conn:
                return await release_node(conn, node_id, since=T0)

        try:
            async with db.write() as conn:  # what the server's join counted, gone with it
                await conn.execute(update(participants).where(row).values(disconnected_at=None))
                await conn.execute(delete(node_connections))
                store, homes = PresenceStore(conn), HomeStore(conn)
                for node_id in ("dead", "dead", "alive"):
                    await store.connected(sid, me, Holder(node_id))
                await homes.advertise(NodeInfo("dead", "http://dead", 0, T0))
                later = T0 + timedelta(seconds=10)
                await homes.advertise(NodeInfo("alive", "http://alive", 0, later))
            assert await counted() == (3, None, {"dead": 2, "alive": 1})
            async with db.read() as conn:
                assert await nodes_gone_since(conn, T0 + timedelta(seconds=5)) == {"dead": T0}

            # Every surviving node's sweep sees it at once: one of them takes the sockets.
            taken = await asyncio.gather(*(release("dead") for _ in range(4)))
            assert sorted(taken) == [0, 0, 0, 2]
            assert await counted() == (1, None, {"alive": 1})  # still here, through "alive"
            async with db.read() as conn:
                assert await nodes_gone_since(conn, T0 + timedelta(seconds=5)) == {}
                seen = await HomeStore(conn).nodes_seen_since(T0 - timedelta(days=1))
            assert [n.node_id for n in seen] == ["alive"]  # the dead one's advertisement went

            # Its last socket closed: away since then, and nothing left per node.
            closed = T0 + timedelta(seconds=30)
            async with db.write() as conn:
                await PresenceStore(conn).disconnected(sid, me, Holder("alive"), closed)
            assert await counted() == (0, closed, {})
            # A node's last sockets taken back leave the participant away since it was heard.
            async with db.write() as conn:
                await PresenceStore(conn).connected(sid, me, Holder("dead"))
            assert await release("dead") == 1
            assert await counted() == (0, T0, {})
        finally:
            await db.close()
