"""Scheduled spaces that never start. A host who scheduled a space and never went live would
leave it among the upcoming spaces for good, its reminders waiting on nothing: each node's
sweep calls it off `schedule_lapse_hours` after its time (`not_started`), and those who set a
reminder, and the host, are told (services.decisions). A host running late keeps the whole
window to go live; a space moved to a later time gets it from its new time."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.core.spaces import rules
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.store.db import Database
from parley.store.spaces import SpaceStore

# Spaces called off per sweep: the rest wait for the next one, not holding other work up.
LAPSED_PER_SWEEP = 100


@dataclass(eq=False)
class LapsedSchedules:
    db: Database
    decisions: SpaceDecisions
    settings: Settings
    _: KW_ONLY
    clock: Clock

    async def sweep(self) -> None:
        """Call off the scheduled spaces whose window to start ran out. Safe on every node at
        once: each decision checks again under the space's lock (started, moved meanwhile)."""
        window = timedelta(hours=self.settings.schedule_lapse_hours)
        cutoff = self.clock() - window
        due = await self.db.read_whole(
            lambda conn: SpaceStore(conn).scheduled_before(cutoff, LAPSED_PER_SWEEP)
        )

        async def call_off(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return rules.lapse(state, self.clock(), window)

        for space_id in due:
            await self.decisions.decide(space_id, [], call_off)
