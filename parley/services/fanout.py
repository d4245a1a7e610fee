"""Delivering space events to this node's WebSocket clients, in order, without gaps.

One `Feed` per space with clients on this node holds one bus subscription and hands every event
to each client's bounded queue: the event is serialized once by its publisher and the same string
goes to every socket. A client whose queue is full is not waited for; it is told to resync and
closed, so one slow reader never slows the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from parley.bus.base import Bus
from parley.services.publisher import encode, space_channel
from parley.services.spaces import SpaceService

log = logging.getLogger(__name__)

# WebSocket close codes of our own (4000-4999 are for applications).
CLOSE_RESYNC = 4001
CLOSE_SPACE_OVER = 4002
CLOSE_REMOVED = 4003
CLOSE_UNAUTHORIZED = 4401


@dataclass(eq=False)
class Client:
    """One socket's mailbox: bounded, never awaited by the feed."""

    account_id: str
    queue_size: int
    pending: deque[tuple[int, str]] = field(default_factory=deque)
    # Highest sequence number this client has been sent; anything at or below it is a duplicate.
    last_seq: int = 0
    # Set when the client must go: (close code, reason).
    closing: tuple[int, str] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, seq: int, message: str) -> None:
        if self.closing is not None:
            return
        if len(self.pending) >= self.queue_size:
            self.pending.clear()
            self.close(CLOSE_RESYNC, "too far behind: reconnect with since=N")
            return
        self.pending.append((seq, message))
        self.wake.set()

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.wake.set()


class Feed:
    """The events of one space, for the clients of this node."""

    def __init__(self, space_id: str, bus: Bus, spaces: SpaceService) -> None:
        self.space_id = space_id
        self.bus = bus
        self.spaces = spaces
        self.clients: set[Client] = set()
        self.last_seq = 0
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"feed:{space_id}")

    async def _run(self) -> None:
        async with self.bus.subscribe(space_channel(self.space_id)) as sub:
            # Subscribed first, then read where the log stands: nothing can fall in between.
            self.last_seq = (await self.spaces.view(self.space_id))["seq"]
            self.ready.set()
            async for message in sub:
                try:
                    await self._receive(message)
                except Exception:
                    log.exception("feed %s: could not deliver an event", self.space_id)

    async def _receive(self, message: str) -> None:
        seq = int(json.loads(message)["seq"])
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            # Publishers on different nodes can overtake each other on the bus; the store has
            # every committed event, so fill the gap from there.
            missing = await self.spaces.events_after(self.space_id, self.last_seq) or []
            for event in missing:
                if event.seq < seq:
                    self._deliver(event.seq, encode(event), event.type.value, event.data)
        self._deliver(seq, message, None, None)

    def _deliver(
        self, seq: int, message: str, type_: str | None, data: dict[str, Any] | None
    ) -> None:
        self.last_seq = seq
        for client in list(self.clients):
            if seq > client.last_seq:
                client.offer(seq, message)
        if type_ is None:
            parsed = json.loads(message)
            type_, data = parsed["type"], parsed["data"]
        self._control(type_, data or {})

    def _control(self, type_: str, data: dict[str, Any]) -> None:
        """Events that end a client's stay: the space is over, or they were removed."""
        if type_ in ("space_ended", "space_cancelled"):
            for client in self.clients:
                client.close(CLOSE_SPACE_OVER, "the space is over")
        elif type_ == "participant_removed":
            for client in self.clients:
                if client.account_id == data.get("account_id"):
                    client.close(CLOSE_REMOVED, "you were removed from this space")


class FanoutHub:
    def __init__(self, bus: Bus, spaces: SpaceService) -> None:
        self.bus = bus
        self.spaces = spaces
        self.feeds: dict[str, Feed] = {}

    async def attach(self, space_id: str, client: Client) -> Feed:
        feed = self.feeds.get(space_id)
        if feed is None or feed.task.done():
            feed = self.feeds[space_id] = Feed(space_id, self.bus, self.spaces)
        feed.clients.add(client)
        await asyncio.wait(
            [asyncio.ensure_future(feed.ready.wait()), feed.task],
            return_when=asyncio.FIRST_COMPLETED,
        )
        if feed.task.done():
            self.detach(space_id, client)
            feed.task.result()  # raises what stopped the feed
        return feed

    def detach(self, space_id: str, client: Client) -> None:
        feed = self.feeds.get(space_id)
        if feed is None:
            return
        feed.clients.discard(client)
        if not feed.clients:
            feed.task.cancel()
            del self.feeds[space_id]

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            feed.task.cancel()
            with contextlib.suppress(BaseException):
                await feed.task
        self.feeds.clear()


async def pump(client: Client, send: Callable[[str], Awaitable[None]]) -> tuple[int, str]:
    """Send the client its mail until it has to close; returns the close code and reason.

    Mail already queued is sent before a close for the space ending or a removal, so the client
    learns why; a resync drops it (the client asks again with `since=`)."""
    while True:
        while client.pending:
            seq, message = client.pending.popleft()
            if seq > client.last_seq:
                await send(message)
                client.last_seq = seq
        if client.closing is not None:
            if client.closing[0] == CLOSE_RESYNC:
                await send(json.dumps({"type": "resync", "seq": client.last_seq}))
            return client.closing
        client.wake.clear()
        await client.wake.wait()
