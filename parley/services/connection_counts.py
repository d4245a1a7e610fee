"""What this worker counts of its connections in the store (store/connections.py), and the tally
it keeps of them, so that it can count them again when they were taken from it.

Another node takes a node's counts back when it stops advertising itself for two leases: as it
must when the node died, but also when it was only paused (a stopped process, a VM migrated, a
database it could not reach). The node then comes back with its sockets open and its counts
gone, and everyone it holds would leave after the presence timeout, in the room and still
hearing it. So every count this worker writes goes through here: `opened`, `closed`, or
`counting()` around a transaction of someone else's (a join's decision), adding it to the
tally once the transaction committed; and every few seconds `check()` compares the store's
totals with the tally and, when they differ, writes the tally back (`recount`).

A count between its commit and the tally would look lost (or left over) to the comparison, so a
recount happens alone: counts wait for it, and it waits for those under way (`Gate`). The
comparison itself does not wait for anything: made while counts were under way it proves
nothing and is made again next time, with a recount after `DOUBTFUL_CHECKS` such in a row, so
that a steady rush of joins cannot put it off for good (alone, the recount compares again and
writes nothing when nothing was lost).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.connections import Holder, Key, recount, release_worker, totals
from parley.store.db import Database
from parley.store.presence import PresenceStore

log = logging.getLogger(__name__)

# Comparisons in a row that counts under way made doubtful, before a recount settles it.
DOUBTFUL_CHECKS = 5


class Gate:
    """Counts pass together; a recount passes alone, once those under way are through, and
    counts arriving meanwhile wait for it."""

    def __init__(self) -> None:
        self.passing = 0
        self.passed = 0  # counts that went through: how a comparison tells none ran meanwhile
        self._idle = asyncio.Event()
        self._idle.set()
        self._open = asyncio.Event()
        self._open.set()

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        await self._open.wait()
        self.passing += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.passing -= 1
            self.passed += 1
            if not self.passing:
                self._idle.set()

    @asynccontextmanager
    async def alone(self) -> AsyncIterator[None]:
        assert self._open.is_set(), "one recount at a time"
        self._open.clear()
        try:
            await self._idle.wait()
            yield
        finally:
            self._open.set()


@dataclass
class Changes:
    """What one transaction counts, for the tally once it committed."""

    delta: Counter[Key] = field(default_factory=Counter)

    def opened(self, space_id: str, account_ids: Sequence[str]) -> None:
        for account_id in account_ids:
            self.delta[space_id, account_id] += 1

    def closed(self, space_id: str, account_id: str) -> None:
        self.delta[space_id, account_id] -= 1

    def clear(self) -> None:
        self.delta.clear()


@dataclass(eq=False)
class ConnectionCounts:
    db: Database
    holder: Holder
    held: Counter[Key] = field(default_factory=Counter, init=False)
    recounts: int = field(default=0, init=False)  # for /metrics: a node taken for gone alive
    _gate: Gate = field(default_factory=Gate, init=False)
    _doubtful: int = field(default=0, init=False)

    @asynccontextmanager
    async def counting(self) -> AsyncIterator[Changes]:
        """Around a transaction that counts connections of this worker's: what it records in
        the `Changes` reaches the tally when the block ends without an error (committed)."""
        async with self._gate.together():
            changes = Changes()
            yield changes
            for key, n in changes.delta.items():
                self.held[key] += n
                if self.held[key] <= 0:
                    # Not below zero either: a close the store had nothing left for.
                    del self.held[key]

    async def opened(self, space_id: str, account_id: str) -> None:
        """One more connection, counted in a transaction of its own."""
        async with self.counting() as changes:
            async with self.db.write() as conn:
                await PresenceStore(conn).connected(space_id, account_id, self.holder)
            changes.opened(space_id, [account_id])

    async def opened_together(self, space_id: str, account_ids: Sequence[str]) -> None:
        """`opened` for several accounts of one space: one statement, one transaction."""

        async def count(conn: AsyncConnection) -> None:
            await PresenceStore(conn).connected_many(space_id, account_ids, self.holder)

        async with self.counting() as changes:
            await self.db.write_whole(count)
            changes.opened(space_id, account_ids)

    async def closed(self, space_id: str, account_id: str, now: datetime) -> None:
        """One connection fewer; with none left anywhere, the participant is away from `now`."""
        async with self.counting() as changes:
            async with self.db.write() as conn:
                await PresenceStore(conn).disconnected(space_id, account_id, self.holder, now)
            changes.closed(space_id, account_id)

    async def check(self, before_recount: Callable[[], Awaitable[None]] | None = None) -> int:
        """Compare the store's counts with the tally and write the tally back when they differ,
        after `before_recount` (the node advertising itself: taken for gone, it must be seen
        alive before it counts again, or a release decided meanwhile would take those too).
        How many connections that restored (below zero: took away); 0 when nothing was wrong."""
        passed, quiet = self._gate.passed, not self._gate.passing
        async with self.db.read() as conn:
            stored = await totals(conn, self.holder)
        if stored == (len(self.held), sum(self.held.values())):
            self._doubtful = 0
            return 0
        if not (quiet and not self._gate.passing and self._gate.passed == passed):
            self._doubtful += 1
            if self._doubtful < DOUBTFUL_CHECKS:
                return 0  # a count landed while the store was read: look again next time
        self._doubtful = 0
        if before_recount is not None:
            await before_recount()
        async with self._gate.alone(), self.db.write() as conn:
            restored = await recount(conn, self.holder, self.held)
        if restored:
            self.recounts += 1
            log.warning(
                "connections this worker holds were not counted (taken for gone?): "
                "counted %+d again, %d in all",
                restored,
                sum(self.held.values()),
            )
        return restored

    async def release_previous_life(self, since: datetime) -> int:
        """As this worker starts: what it counted before it last stopped (killed, or started
        again by its parent) is not open now."""
        async with self._gate.alone(), self.db.write() as conn:
            released = await release_worker(conn, self.holder, since=since)
        self.held.clear()
        return released
