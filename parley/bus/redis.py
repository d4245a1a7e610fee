"""The Redis bus: pub/sub shared by every node.

One pub/sub connection per node carries every channel this node listens to; local subscribers
of a channel share its one Redis subscription. If the connection drops, the reader reconnects
and subscribes again; events published meanwhile are not lost to clients, because each feed
fills gaps from the database by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley.bus.memory import MemorySubscription

log = logging.getLogger(__name__)

RECONNECT_DELAY_SECONDS = 0.2


class RedisBus:
    def __init__(self, url: str) -> None:
        self.url = url
        self._redis: Redis = Redis.from_url(url)
        self._pubsub: Any = None
        self._subscriptions: dict[str, set[MemorySubscription]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for subs in self._subscriptions.values():
            for sub in subs:
                sub.end()
        self._subscriptions.clear()
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(channel, message)

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """In one pipeline, one write and one read: a batch of fifteen joins published its
        events one round trip after another, each a command's worth of redis-py's Python and
        a send on both sides. Redis runs a pipeline's commands in order, as it would have."""
        if len(messages) == 1:
            await self.publish(*messages[0])
        elif messages:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in messages:
                    pipe.publish(channel, message)
                await pipe.execute()

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[MemorySubscription]:
        sub = MemorySubscription(channel)
        async with self._lock:
            subs = self._subscriptions.setdefault(channel, set())
            if not subs:
                # Confirmed by Redis before we return: nothing published after this is missed.
                await self._pubsub.subscribe(channel)
            subs.add(sub)
        try:
            yield sub
        finally:
            async with self._lock:
                subs = self._subscriptions.get(channel, set())
                subs.discard(sub)
                if not subs:
                    self._subscriptions.pop(channel, None)
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.unsubscribe(channel)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def _read(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as error:
                log.warning("Redis bus connection lost (%s); reconnecting", error)
                await self._reconnect()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode()
            data = message["data"]
            text = data.decode() if isinstance(data, bytes) else str(data)
            for sub in self._subscriptions.get(channel, ()):
                sub.deliver(text)

    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(RECONNECT_DELAY_SECONDS)
            try:
                async with self._lock:
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.aclose()
                    self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    channels = list(self._subscriptions)
                    if channels:
                        await self._pubsub.subscribe(*channels)
                return
            except (RedisError, OSError) as error:
                log.warning("Redis bus still unreachable (%s)", error)
