"""The in-process bus: one node, no network. Same behaviour as the Redis bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

_END = object()


class MemorySubscription:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[object] = asyncio.Queue()

    def deliver(self, message: str) -> None:
        self._queue.put_nowait(message)

    def end(self) -> None:
        self._queue.put_nowait(_END)

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, str)
            yield item


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[MemorySubscription]] = {}

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for subs in self._subscriptions.values():
            for sub in subs:
                sub.end()
        self._subscriptions.clear()

    async def publish(self, channel: str, message: str) -> None:
        for sub in self._subscriptions.get(channel, ()):
            sub.deliver(message)

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[MemorySubscription]:
        sub = MemorySubscription(channel)
        self._subscriptions.setdefault(channel, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subscriptions.get(channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscriptions[channel]

    async def ping(self) -> bool:
        return True
