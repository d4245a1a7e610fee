"""A peer connection that can be closed at any moment, leaving nothing of itself behind.

aiortc connects in a task of its own, started by setLocalDescription: ICE checks, then the DTLS
handshake, then the RTP and RTCP tasks. Its close() stops what exists when it runs, but that
task carries on afterwards: a check list that completed just before still starts aioice's
consent task, a handshake that completes still starts the sender's RTP and RTCP tasks, and
those run for ever. Here the connecting task is cancelled and waited for before the close, so
whatever state the connection is in (still negotiating, halfway through ICE or DTLS, connected,
failed), closing it frees its sockets and tasks at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCConfiguration

from parley.media.aiortc_internals import ConnectHookedPeerConnection

log = logging.getLogger(__name__)


class PeerConnection(ConnectHookedPeerConnection):
    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        super().__init__(configuration)
        self._connecting: set[asyncio.Task[object]] = set()

    async def connecting(self, connect: Callable[[], Awaitable[None]]) -> None:
        # Runs in the connecting task aiortc starts; keeping that task in hand lets close()
        # stop it.
        task = asyncio.current_task()
        assert task is not None
        self._connecting.add(task)
        try:
            await connect()
        finally:
            self._connecting.discard(task)

    async def close(self) -> None:
        current = asyncio.current_task()
        pending = [t for t in self._connecting if t is not current]
        for task in pending:
            task.cancel()
        if pending:
            # asyncio.wait, not await: a cancellation of this close must not be swallowed.
            await asyncio.wait(pending)
            for task in pending:
                if not task.cancelled() and task.exception() is not None:
                    log.debug("connecting ended with %r on close", task.exception())
        await super().close()
