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

from aiortc import RTCConfiguration, RTCPeerConnection

log = logging.getLogger(__name__)

# The name aiortc's private connecting coroutine has from outside its class.
_CONNECT = "_RTCPeerConnection__connect"
if not hasattr(RTCPeerConnection, _CONNECT):
    log.warning("aiortc's connection changed: closing one mid-handshake may leave tasks behind")


class PeerConnection(RTCPeerConnection):
    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        super().__init__(configuration)
        self._connecting: set[asyncio.Task[object]] = set()

    async def _RTCPeerConnection__connect(self) -> None:
        # aiortc calls its private __connect (name-mangled to this) in a task of its own; this
        # override keeps that task in hand so close() can stop it.
        task = asyncio.current_task()
        assert task is not None
        self._connecting.add(task)
        try:
            await super()._RTCPeerConnection__connect()  # type: ignore[misc]
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
