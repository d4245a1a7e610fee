"""Presence counts connections once, by node: a socket opening on one node in the same instant as
its owner's join on another holds them. Both transactions are in flight together on PostgreSQL
(read committed), where neither sees what the other has not yet committed: when a participant's
count was a total on their row beside the nodes' counts, the join's total missed the socket,
and its owner was let go with it open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parley.core.spaces import rules
from parley.core.spaces.model import Limits
from parley.store.connections import Holder
from parley.store.db import Database
from parley.store.presence import PresenceStore
from parley.store.spaces import SpaceStore
from tests.support.rows import T0, connections, live_space, stored_accounts

LONG_AFTER = T0 + timedelta(days=1)


async def away(db: Database, space_id: str) -> list[str]:
    """Who the presence sweep would let go, long after everything here."""
    async with db.read() as conn:
        gone = await PresenceStore(conn).away_since(LONG_AFTER, host_cutoff=LONG_AFTER)
    return [account_id for sid, account_id in gone if sid == space_id]


@pytest.mark.postgres
async def test_a_socket_opening_on_one_node_as_its_owner_joins_on_another_holds_them(
    postgres_db: Database,
) -> None:
    host, fan = await stored_accounts(postgres_db, 2, "race", T0)
    space = live_space(host)
    async with postgres_db.write() as conn:
        await SpaceStore(conn).create(space)

    async with postgres_db.write() as on_node_b:
        # Node B counts the fan's event socket (opened before the join answered)...
        await PresenceStore(on_node_b).connected(space.id, fan, Holder("node-b"))
        # ...and node A's join commits while B's transaction is still open.
        async with postgres_db.write() as on_node_a:
            store = SpaceStore(on_node_a)
            state = await store.load(space.id, [fan], limits=Limits())
            assert state is not None
            await store.save(state, rules.join(state, fan, "race1", T0))
            await PresenceStore(on_node_a).connected_many(space.id, [fan], Holder("node-a"))

    # The join's ticket is never claimed on node A: the socket on B is what holds the fan.
    async with postgres_db.write() as conn:
        await PresenceStore(conn).unclaimed(
            space.id, fan, Holder("node-a"), T0 + timedelta(seconds=10)
        )
    assert await connections(postgres_db, space.id, fan) == 1
    async with postgres_db.read() as conn:
        assert not await PresenceStore(conn).is_away(space.id, fan)
    assert await away(postgres_db, space.id) == []

    # Once that socket closes, the fan is away, and the sweep lets them go.
    async with postgres_db.write() as conn:
        await PresenceStore(conn).disconnected(
            space.id, fan, Holder("node-b"), T0 + timedelta(seconds=20)
        )
    assert await connections(postgres_db, space.id, fan) == 0
    async with postgres_db.read() as conn:
        assert await PresenceStore(conn).is_away(space.id, fan)
    assert await away(postgres_db, space.id) == [fan]
