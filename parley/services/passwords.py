"""argon2id password hashing, off the event loop (a hash takes tens of milliseconds by design).

Hashes run through a gate: a few at once (one per core the process may use), a short queue
behind them, and anything beyond that refused at once with 503 `busy`. Without it, a flood of
sign-ins queues argon2 work without bound and a legitimate sign-in waits behind all of it
(seconds); with it, the flood is refused cheaply. Work for someone already known (a sign-in from
an address the account signed in from before, a signed-in password change) goes to the front of
the queue and is never refused for a full queue: a flood of strangers cannot lock owners out.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parley.core.errors import Unavailable

T = TypeVar("T")


def usable_cores() -> int:
    # Not os.cpu_count(): a server pinned with taskset to one core has one core to hash on.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ArgonGate:
    """At most `slots` hashes at once; up to `queue` strangers waiting; the known go first."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots = slots
        self._free = slots
        self._queue_limit = queue
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.refused = 0

    @property
    def pending(self) -> int:
        """Hashes running or waiting, for /metrics."""
        return self.slots - self._free + len(self._waiting)

    @asynccontextmanager
    async def slot(self, *, known: bool) -> AsyncIterator[None]:
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            if not known and len(self._waiting) >= self._queue_limit:
                self.refused += 1
                raise Unavailable(
                    "busy", "The server is busy; try again in a moment", retry_after=1
                )
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (0 if known else 1, next(self._order), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # handed a slot just as the caller gave up: pass it on
                else:
                    self._waiting = [w for w in self._waiting if w[2] is not turn]
                    heapq.heapify(self._waiting)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the next in line
                return
        self._free += 1


class Passwords:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        concurrency: int | None = None,
        queue: int = 8,
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verifying against this when the handle is unknown keeps sign-in time the same either
        # way, so timing does not tell which handles exist.
        self._dummy = self._hasher.hash("not a real password")
        self.gate = ArgonGate(concurrency or usable_cores(), queue)

    async def hash(self, password: str, *, known: bool = False) -> str:
        return await self._gated(lambda: self._hasher.hash(password), known)

    async def verify(self, stored: str | None, password: str, *, known: bool = False) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self._gated(check, known)

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

    async def _gated(self, work: Callable[[], T], known: bool) -> T:
        async with self.gate.slot(known=known):
            return await asyncio.to_thread(work)
