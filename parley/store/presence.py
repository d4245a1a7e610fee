"""Presence: each participant's open connections (event sockets, and media connections) over all
nodes, and who has been away.

The connections are counted by node alone (store/connections.py), whoever holds them, a
participant or not yet one: a participant holds some when any node counts one, and is away
since `disconnected_at` (when one last closed) when none does. One count, not a participant's
total beside the nodes' (as until migration 0022): a socket opening on one node as its owner
joins on another wrote each into a different row, and on PostgreSQL neither transaction saw
the other's, so the total could miss an open socket and let its owner go while in the room.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from parley.core.spaces.model import Role, SpaceStatus
from parley.store.connections import (
    Holder,
    count_socket,
    count_sockets,
    holds_any,
    uncount_socket,
)
from parley.store.rows import Store
from parley.store.tables import participants, spaces

_holds = holds_any(participants.c.space_id, participants.c.account_id)


class PresenceStore(Store):
    async def connected(self, space_id: str, account_id: str, holder: Holder) -> None:
        """One more connection of the account's to the space, a participant or not yet one."""
        await count_socket(self.conn, space_id, account_id, holder)

    async def connected_many(
        self, space_id: str, account_ids: Sequence[str], holder: Holder
    ) -> None:
        """`connected` for several accounts in one space (a batch of joins, or of sockets), in
        one statement."""
        if account_ids:
            await count_sockets(self.conn, space_id, account_ids, holder)

    async def disconnected(
        self, space_id: str, account_id: str, holder: Holder, now: datetime
    ) -> None:
        # `disconnected_at` is when a connection last closed; only with none left is anyone away.
        await self.conn.execute(
            update(participants)
            .where(participants.c.space_id == space_id, participants.c.account_id == account_id)
            .values(disconnected_at=now)
        )
        await uncount_socket(self.conn, space_id, account_id, holder)

    async def unclaimed(
        self, space_id: str, account_id: str, holder: Holder, now: datetime
    ) -> None:
        """The socket a join counted never came here: take the count back. The participant is
        away from now unless something else holds them (a socket opened on another node, a
        media connection), and leaves after the presence timeout: a join alone, followed by
        nothing, does not keep anyone in a room."""
        await self.disconnected(space_id, account_id, holder, now)

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
                ~_holds,
                or_(
                    and_(is_host, participants.c.disconnected_at < host_cutoff),
                    and_(~is_host, participants.c.disconnected_at < cutoff),
                ),
            )
        )
        return [(r.space_id, r.account_id) for r in rows]

    async def is_away(self, space_id: str, account_id: str) -> bool:
        query = select(_holds.label("held"), participants.c.disconnected_at).where(
            participants.c.space_id == space_id, participants.c.account_id == account_id
        )
        row = (await self.conn.execute(query)).first()
        return row is not None and not row.held and row.disconnected_at is not None

    async def hosts_absent_since(self, cutoff: datetime) -> list[str]:
        rows = await self.conn.execute(
            select(spaces.c.id).where(
                spaces.c.state == SpaceStatus.LIVE.value, spaces.c.host_absent_since <= cutoff
            )
        )
        return list(rows.scalars())
