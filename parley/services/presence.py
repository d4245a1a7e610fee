"""Presence: who is connected to a space (event sockets, media connections), who went away, and
what follows from it. A host whose connections are gone hands the space over after a grace
period; anyone else gone longer than the presence timeout, or whose media went silent, leaves.
The media layer's speaker reports land here too: they are presence of a kind (who is audible
now)."""

from __future__ import annotations

import logging
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.core.spaces import rules, stage
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.services.common import Clock
from parley.services.connection_counts import ConnectionCounts
from parley.services.decisions import Decide, SpaceDecisions
from parley.store.connections import nodes_gone_since, release_node
from parley.store.db import Database
from parley.store.presence import PresenceStore

log = logging.getLogger(__name__)

HOST_AWAY = timedelta(seconds=3)


@dataclass(eq=False)
class PresenceService:
    db: Database
    decisions: SpaceDecisions
    settings: Settings
    counts: ConnectionCounts
    _: KW_ONLY
    clock: Clock

    # --- what the connections report (sockets counted as they open: joins.py) --------------

    async def connected(self, space_id: str, account_id: str) -> None:
        await self.counts.opened(space_id, account_id)

    async def disconnected(self, space_id: str, account_id: str) -> None:
        await self.counts.closed(space_id, account_id, self.clock())

    async def release_gone_nodes(self, cutoff: datetime) -> None:
        """Take back the connections of nodes not heard from since `cutoff` (killed, or cut off):
        their participants are away since then, and leave after the presence timeout unless
        they came back through another node. Every node advertises itself (services/homing.py),
        so this is also how a single node restarted after a crash, under a new id, takes back
        what its previous life held; never its own."""
        async with self.db.read() as conn:
            gone = await nodes_gone_since(conn, cutoff)
        for node_id, last_heard in gone.items():
            if node_id != self.counts.holder.node_id:
                await self.release_node(node_id, last_heard)

    async def release_node(self, node_id: str, since: datetime) -> None:
        async with self.db.write() as conn:
            released = await release_node(conn, node_id, since=since)
        if released:
            log.warning("node %s is gone: took back its %d connections", node_id, released)

    # --- what the media layer reports -----------------------------------------------------

    async def report_active_speakers(self, space_id: str, account_ids: list[str]) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return stage.active_speakers(state, account_ids, self.clock())

        await self.decisions.decide(space_id, [], decide)

    async def report_speaker_audio(self, space_id: str, account_id: str, connected: bool) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return stage.speaker_audio(state, account_id, connected, self.clock())

        await self.decisions.decide(space_id, [account_id], decide)

    # --- timers ---------------------------------------------------------------------------

    async def sweep(self) -> None:
        """Hand over spaces whose host's grace period ran out, and let go of participants whose
        connections have been gone longer than the presence timeout. Safe on every node at once:
        each decision re-checks its condition under the space's lock."""
        now = self.clock()
        grace = timedelta(seconds=self.settings.host_grace_seconds)
        away = timedelta(seconds=self.settings.presence_timeout_seconds)
        # A host whose socket dropped starts the grace period soon, not after the presence
        # timeout: the grace period is the time the audience waits for them.
        host_away = min(away, HOST_AWAY)

        async def read(conn: AsyncConnection) -> tuple[list[str], list[tuple[str, str]]]:
            store = PresenceStore(conn)
            due = await store.hosts_absent_since(now - grace)
            return due, await store.away_since(now - away, host_cutoff=now - host_away)

        due, gone = await self.db.read_whole(read)

        async def handover(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return rules.host_timeout(state, self.clock(), grace)

        for space_id in due:
            await self.decisions.decide(space_id, [], handover)
        for space_id, account_id in gone:
            await self.decisions.decide(space_id, [account_id], self._let_go(account_id))

    def _let_go(self, account_id: str) -> Decide:
        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            p = state.participants.get(account_id)
            # They may have come back since the sweep looked.
            if (
                p is None
                or not p.present
                or not await PresenceStore(conn).is_away(state.space.id, p.account_id)
            ):
                return []
            return rules.leave(state, account_id, self.clock(), reason="dropped")

        return decide
