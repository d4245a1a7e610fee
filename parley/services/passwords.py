"""argon2id password hashing, off the event loop (a hash takes tens of milliseconds by design).

Hashes run through a gate with two lanes. Strangers (a sign-in from an address the account
never signed in from, a sign-up) get one hash per core, a short queue behind them, and a 503
`busy` at once beyond that: without it a flood of sign-ins queues argon2 work without bound
and everyone waits behind all of it (seconds). The known (a sign-in from an address the account
signed in from before, a signed-in password change, a rehash after a right password) have a
lane of their own that is never refused and never waits for a stranger's hash: it runs beside
them, and the strangers' hashes run in threads at the lowest CPU priority, so the kernel gives
an owner's hash nearly the whole core while a flood is being hashed. One core shared equally
would double the owner's hash; waiting for the stranger's hash in progress would add a whole
hash more.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from parley.core.errors import Unavailable

T = TypeVar("T")

# The nicest a thread can be: under Linux's scheduler a nice-19 thread gets about 1.5% of a core
# that a nice-0 thread also wants.
LOWEST_PRIORITY = 19


def usable_cores() -> int:
    # Not os.cpu_count(): a server pinned with taskset to one core has one core to hash on.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _lower_this_threads_priority() -> None:
    # On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value; raising one's
    # own nice needs no privilege. Elsewhere the lanes still keep apart, without the priority.
    if hasattr(os, "setpriority"):
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


class Lane:
    """At most `slots` hashes at once, first come first served, in an executor of its own;
    with a `queue` limit, anyone beyond the slots and the queue is refused at once."""

    def __init__(
        self,
        name: str,
        slots: int,
        queue: int | None,
        *,
        low_priority: bool,
        refusal_delay: float = 0.0,
    ) -> None:
        self.slots = slots
        # As with the rate limits: a flood that waits for each answer is slowed by a late one.
        self.refusal_delay = refusal_delay
        self._free = slots
        self._queue_limit = queue
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.refused = 0
        self.executor = ThreadPoolExecutor(
            max_workers=slots,
            thread_name_prefix=f"argon2-{name}",
            initializer=_lower_this_threads_priority if low_priority else None,
        )

    @property
    def pending(self) -> int:
        return self.slots - self._free + len(self._waiting)

    async def run(self, work: Callable[[], T]) -> T:
        async with self._slot():
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            if self._queue_limit is not None and len(self._waiting) >= self._queue_limit:
                self.refused += 1
                if self.refusal_delay:
                    await asyncio.sleep(self.refusal_delay)
                raise Unavailable(
                    "busy", "The server is busy; try again in a moment", retry_after=1
                )
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # handed a slot just as the caller gave up: pass it on
                else:
                    self._waiting.remove(turn)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the next in line
                return
        self._free += 1


class ArgonGate:
    """The two lanes: the known, never refused, at normal priority; strangers, queue-limited,
    at the lowest priority."""

    def __init__(self, slots: int, queue: int, refusal_delay: float = 0.0) -> None:
        self.slots = slots
        self.known = Lane("known", slots, None, low_priority=False)
        self.strangers = Lane(
            "strangers", slots, queue, low_priority=True, refusal_delay=refusal_delay
        )

    @property
    def pending(self) -> int:
        """Hashes running or waiting, for /metrics."""
        return self.known.pending + self.strangers.pending

    @property
    def refused(self) -> int:
        return self.strangers.refused

    async def run(self, work: Callable[[], T], *, known: bool) -> T:
        return await (self.known if known else self.strangers).run(work)

    def close(self) -> None:
        self.known.executor.shutdown(wait=False)
        self.strangers.executor.shutdown(wait=False)


class Passwords:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        concurrency: int | None = None,
        queue: int = 8,
        refusal_delay: float = 0.0,
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verifying against this when the handle is unknown keeps sign-in time the same either
        # way, so timing does not tell which handles exist.
        self._dummy = self._hasher.hash("not a real password")
        self.gate = ArgonGate(concurrency or usable_cores(), queue, refusal_delay)

    async def hash(self, password: str, *, known: bool = False) -> str:
        return await self.gate.run(lambda: self._hasher.hash(password), known=known)

    async def verify(self, stored: str | None, password: str, *, known: bool = False) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self.gate.run(check, known=known)

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)

    def close(self) -> None:
        self.gate.close()
