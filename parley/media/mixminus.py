"""Mix-minus tracks: what a stage member hears, the mix without their own voice.

These carry PCM frames, not packets: each differs per speaker, so aiortc encodes each one in
the sender, which is affordable because a stage holds at most 13 people.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame


class MixMinusTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(
        self, source: str, on_stop: Callable[[MixMinusTrack], None], depth: int = 3
    ) -> None:
        super().__init__()
        self.source = source
        self._on_stop = on_stop
        # Bounded: if the sender stalls, old audio is dropped rather than played late.
        self._frames: deque[AudioFrame] = deque(maxlen=depth)
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = 0

    def push(self, frame: AudioFrame) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(frame)
        self._wake()

    async def recv(self) -> AudioFrame:
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.readyState != "live":
            raise MediaStreamError
        return self._frames.popleft()

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._frames.clear()
            self._wake()
            self._on_stop(self)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
