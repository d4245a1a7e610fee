"""Media connections count as presence, as event sockets do: someone who hears the space over
WebRTC is in it, socket or not (a bot that only speaks, a client whose socket is reconnecting).

A room tells of each connection kept and ended from code that must not wait on the database (a
hang-up on suspension is timed), so one writer per worker brings the store's counts to what the
rooms hold. It writes the difference, one change a transaction as sockets do, so a connection
that came and went before the writer looked costs nothing, and an ended one is never counted
after it is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from parley.services.background import cancel_and_wait

log = logging.getLogger(__name__)

# After a failed write (the database away): how long before the writer tries again.
RETRY_SECONDS = 1.0

Key = tuple[str, str]  # (space id, account id)
Count = Callable[[str, str], Awaitable[None]]


@dataclass(eq=False)
class MediaPresence:
    connected: Count
    disconnected: Count
    retry_seconds: float = RETRY_SECONDS
    _held: set[Key] = field(default_factory=set, init=False)
    _counted: set[Key] = field(default_factory=set, init=False)
    _dirty: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _writer: asyncio.Task[None] | None = field(default=None, init=False)

    def opened(self, space_id: str, account_id: str) -> None:
        self._held.add((space_id, account_id))
        self._wake()

    def closed(self, space_id: str, account_id: str) -> None:
        self._held.discard((space_id, account_id))
        self._wake()

    @property
    def settled(self) -> bool:
        return self._held == self._counted

    async def close(self, timeout: float) -> None:
        """Let the writer bring the store to what the rooms hold (a node closing, its rooms
        closed: its counts taken back now, not by another node once it is seen gone), for at
        most `timeout` seconds."""
        writer = self._writer
        if writer is None or writer.done():
            return
        await asyncio.wait([writer], timeout=timeout)
        if not writer.done():
            log.warning("media connections still counted at close: left for release_node")
            await cancel_and_wait(writer)

    def _wake(self) -> None:
        self._dirty.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="media-presence")

    async def _write(self) -> None:
        while self._dirty.is_set():
            self._dirty.clear()
            try:
                await self._settle()
            except Exception:
                log.exception("could not count media connections; trying again")
                self._dirty.set()
                await asyncio.sleep(self.retry_seconds)

    async def _settle(self) -> None:
        # Gone first: a connection replaced in a room between two looks is (space, account)
        # in both sets, never in either difference; only a key that changed is written.
        for key in sorted(self._counted - self._held):
            await self.disconnected(*key)
            self._counted.discard(key)
        for key in sorted(self._held - self._counted):
            await self.connected(*key)
            self._counted.add(key)
