"""Storage of the nodes' advertisements and of each live space's home (core.homing).

Claims are single conditional UPDATEs: on PostgreSQL the row lock makes two nodes racing for an
expired lease see one winner, whose WHERE still held when it got the lock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select, update

from parley.core.homing import Home, NodeInfo
from parley.store.among import among
from parley.store.prebuilt import RowLike
from parley.store.rows import Store, insert_ignoring_duplicate
from parley.store.tables import nodes, space_homes


def _home(row: RowLike) -> Home:
    return Home(row.space_id, row.node_id, row.node_url, row.lease_until, row.epoch)


class HomeStore(Store):
    async def home(self, space_id: str) -> Home | None:
        query = select(space_homes).where(space_homes.c.space_id == space_id)
        return await self._first(query, _home)

    async def claim(
        self, space_id: str, node_id: str, node_url: str, *, now: datetime, until: datetime
    ) -> Home | None:
        """Make this node the space's home until `until`, if nobody else holds a lease on it
        now (renewing ours keeps the epoch); the home after the attempt, whoever holds it."""
        mine = space_homes.c.node_id == node_id
        renewed = await self.conn.execute(
            update(space_homes)
            .where(space_homes.c.space_id == space_id, mine)
            .values(lease_until=until, node_url=node_url)
        )
        if not renewed.rowcount:
            await self.conn.execute(
                update(space_homes)
                .where(space_homes.c.space_id == space_id, space_homes.c.lease_until <= now)
                .values(
                    node_id=node_id,
                    node_url=node_url,
                    lease_until=until,
                    epoch=space_homes.c.epoch + 1,
                )
            )
            values = dict(
                space_id=space_id, node_id=node_id, node_url=node_url, lease_until=until, epoch=1
            )
            await insert_ignoring_duplicate(self.conn, space_homes, values)
        return await self.home(space_id)

    async def held_elsewhere(
        self, space_ids: Collection[str], node_id: str, now: datetime
    ) -> set[str]:
        """Of these spaces, those another node holds a lease on now."""
        if not space_ids:
            return set()
        query = select(space_homes.c.space_id).where(
            among(space_homes.c.space_id, list(space_ids)),
            space_homes.c.node_id != node_id,
            space_homes.c.lease_until > now,
        )
        return set((await self.conn.execute(query)).scalars())

    async def renew(self, space_ids: set[str], node_id: str, *, until: datetime) -> set[str]:
        """Extend this node's leases on these spaces; the spaces it still holds."""
        if not space_ids:
            return set()
        held = await self.conn.execute(
            update(space_homes)
            .where(among(space_homes.c.space_id, space_ids), space_homes.c.node_id == node_id)
            .values(lease_until=until)
            .returning(space_homes.c.space_id)
        )
        return set(held.scalars())

    async def hand_over(
        self, space_id: str, node_id: str, to: NodeInfo, *, until: datetime
    ) -> bool:
        """Give the space, if this node still holds it, to `to` until `until`."""
        moved = await self.conn.execute(
            update(space_homes)
            .where(space_homes.c.space_id == space_id, space_homes.c.node_id == node_id)
            .values(
                node_id=to.node_id,
                node_url=to.url,
                lease_until=until,
                epoch=space_homes.c.epoch + 1,
            )
        )
        return bool(moved.rowcount)

    async def release(self, space_id: str, node_id: str) -> None:
        """Let the space go at once (its mixer stopped here), if this node still holds it."""
        await self.conn.execute(
            delete(space_homes).where(
                space_homes.c.space_id == space_id, space_homes.c.node_id == node_id
            )
        )

    async def advertise(self, node: NodeInfo) -> None:
        values = dict(url=node.url, load=node.load, seen_at=node.seen_at)
        changed = await self.conn.execute(
            update(nodes).where(nodes.c.id == node.node_id).values(**values)
        )
        if not changed.rowcount:
            await insert_ignoring_duplicate(self.conn, nodes, dict(id=node.node_id, **values))

    async def nodes_seen_since(self, cutoff: datetime) -> list[NodeInfo]:
        query = select(nodes).where(nodes.c.seen_at >= cutoff).order_by(nodes.c.load)
        return await self._all(query, lambda r: NodeInfo(r.id, r.url, r.load, r.seen_at))

    async def forget_node(self, node_id: str) -> None:
        await self.conn.execute(delete(nodes).where(nodes.c.id == node_id))
