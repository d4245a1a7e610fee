"""Presence: each participant's open connections (event sockets, and media connections) over all
nodes, and who has been away.

Each count is also kept per node (store/connections.py), in the same transaction, for a node
that dies holding some.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, or_, select, update

from parley.core.spaces.model import Role, SpaceStatus
from parley.store.among import among_named
from parley.store.connections import count_socket, count_sockets, uncount_socket
from parley.store.prebuilt import Prebuilt
from parley.store.rows import Store
from parley.store.tables import node_connections, participants, spaces

_one_less = case((participants.c.connections <= 1, 0), else_=participants.c.connections - 1)

# A participant's connections as every node counts them, one more: the one being counted now.
# Sockets are counted by node whoever holds them, so one opened before its owner joined is in
# the count the join makes (else it would hold nobody, and its owner be let go while in).
_ONE_MORE = (
    select(func.coalesce(func.sum(node_connections.c.sockets), 0) + 1)
    .where(
        node_connections.c.space_id == participants.c.space_id,
        node_connections.c.account_id == participants.c.account_id,
    )
    .scalar_subquery()
)

# Built once (store/prebuilt.py): every batch of a join rush counts its sockets with it.
# An UPDATE's own columns may not name its other parameters: the space is `in_space` there.
_CONNECTED = Prebuilt(
    update(participants)
    .where(
        participants.c.space_id == bindparam("in_space"),
        among_named(participants.c.account_id, "account_ids"),
    )
    .values(connections=_ONE_MORE, disconnected_at=None)
)


class PresenceStore(Store):
    async def connected(self, space_id: str, account_id: str, node_id: str) -> None:
        """One more connection of the account's to the space, a participant or not yet one."""
        await self.conn.execute(
            update(participants)
            .where(participants.c.space_id == space_id, participants.c.account_id == account_id)
            .values(connections=_ONE_MORE, disconnected_at=None)
        )
        await count_socket(self.conn, space_id, account_id, node_id)

    async def connected_many(self, space_id: str, account_ids: Sequence[str], node_id: str) -> None:
        """`connected` for several accounts in one space (a batch of joins, or of sockets), in
        two statements."""
        if not account_ids:
            return
        await _CONNECTED.run(self.conn, in_space=space_id, account_ids=list(account_ids))
        await count_sockets(self.conn, space_id, account_ids, node_id)

    async def disconnected(
        self, space_id: str, account_id: str, node_id: str, now: datetime
    ) -> None:
        # One statement: a second UPDATE of the same row in one transaction re-checks its
        # foreign keys on PostgreSQL, which can deadlock with a decision locking the space.
        # `disconnected_at` is when a socket last closed; only with none left is anyone away.
        await self.conn.execute(
            update(participants)
            .where(participants.c.space_id == space_id, participants.c.account_id == account_id)
            .values(connections=_one_less, disconnected_at=now)
        )
        await uncount_socket(self.conn, space_id, account_id, node_id)

    async def unclaimed(self, space_id: str, account_id: str, node_id: str, now: datetime) -> None:
        """The socket a join counted never came here: take the count back. The participant is
        away from now unless something else holds them (a socket opened on another node, a
        media connection), and leaves after the presence timeout: a join alone, followed by
        nothing, does not keep anyone in a room."""
        await self.conn.execute(
            update(participants)
            .where(participants.c.space_id == space_id, participants.c.account_id == account_id)
            .values(connections=_one_less, disconnected_at=now)
        )
        await uncount_socket(self.conn, space_id, account_id, node_id)

    async def away_since(self, cutoff: datetime, *, host_cutoff: datetime) -> list[tuple[str, str]]:
        """(space id, account id) of present participants with no socket since before the
        cutoff (the host's own cutoff for the host)."""
        is_host = participants.c.role == Role.HOST.value
        rows = await self.conn.execute(
            select(participants.c.space_id, participants.c.account_id)
            .join(spaces, spaces.c.id == participants.c.space_id)
            .where(
                spaces.c.state == SpaceStatus.LIVE.value,
                participants.c.present,
                participants.c.connections == 0,
                or_(
                    and_(is_host, participants.c.disconnected_at < host_cutoff),
                    and_(~is_host, participants.c.disconnected_at < cutoff),
                ),
            )
        )
        return [(r.space_id, r.account_id) for r in rows]

    async def is_away(self, space_id: str, account_id: str) -> bool:
        query = select(participants.c.connections, participants.c.disconnected_at).where(
            participants.c.space_id == space_id, participants.c.account_id == account_id
        )
        row = (await self.conn.execute(query)).first()
        return row is not None and row.connections == 0 and row.disconnected_at is not None

    async def hosts_absent_since(self, cutoff: datetime) -> list[str]:
        rows = await self.conn.execute(
            select(spaces.c.id).where(
                spaces.c.state == SpaceStatus.LIVE.value, spaces.c.host_absent_since <= cutoff
            )
        )
        return list(rows.scalars())
