"""Requests about one key that arrive while the key's previous batch is being handled are
handled together in its next batch.

A join rush into one space is many small decisions on one row: each alone costs a whole
transaction (a dozen statements, the commit, the row lock on PostgreSQL), of which only a
participant row and an event are its own. Taken as they queue, the batch grows with the load and
costs nothing when there is none: a request that finds its key idle starts a batch at once, with
no timer to wait for. Each request gets its own outcome, or the batch's exception when the batch
as a whole failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
Req = TypeVar("Req")
Res = TypeVar("Res")

# Handles one batch: one outcome per request, in order; an exception as an outcome is raised to
# that request's caller alone.
Handle = Callable[[K, Sequence[Req]], Awaitable[Sequence[Res | Exception]]]


class Batches(Generic[K, Req, Res]):
    def __init__(self, handle: Handle[K, Req, Res], *, largest: int = 200) -> None:
        self._handle = handle
        # A bound keeps one transaction (and the events it publishes at once) of a sane size.
        self._largest = largest
        self._waiting: dict[K, list[tuple[Req, asyncio.Future[Res]]]] = {}
        self._running: dict[K, asyncio.Task[None]] = {}
        # For /metrics: requests over batches is how much a rush shares its transactions.
        self.batches_run = 0
        self.requests_run = 0

    async def submit(self, key: K, request: Req) -> Res:
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        # Retrieved even when its caller went away, so a refusal is not logged as lost.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting.setdefault(key, []).append((request, future))
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._drain(key))
        # A caller that goes away does not take its request out of a batch: like a request
        # whose answer was lost, it may still have happened.
        return await asyncio.shield(future)

    async def _drain(self, key: K) -> None:
        try:
            while waiting := self._waiting.get(key):
                batch, rest = waiting[: self._largest], waiting[self._largest :]
                if rest:
                    self._waiting[key] = rest
                else:
                    del self._waiting[key]
                await self._run(key, batch)
        finally:
            del self._running[key]

    async def _run(self, key: K, batch: list[tuple[Req, asyncio.Future[Res]]]) -> None:
        self.batches_run += 1
        self.requests_run += len(batch)
        try:
            outcomes = await self._handle(key, [request for request, _ in batch])
        except Exception as failure:
            for _, future in batch:
                _settle(future, failure)
            return
        except BaseException as stop:  # cancelled with the node: nobody waits for an answer
            for _, future in batch:
                _settle(future, asyncio.CancelledError())
            raise stop
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)

    async def close(self) -> None:
        """Cancel batches in flight (the node is stopping)."""
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)


def _settle(future: asyncio.Future[Res], outcome: Res | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
