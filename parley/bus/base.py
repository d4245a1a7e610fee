"""The event bus interface: how one node tells every node (itself included) that something happened.

Messages are text (already-serialized JSON): a publisher serializes once and every subscriber on
every node forwards the same string, so fan-out never re-encodes. What the text says is
`parley.bus.messages`' business: the one place that turns each kind into text and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Subscription(Protocol):
    """Messages published on one channel after the subscription was made, in publish order."""

    channel: str

    def __aiter__(self) -> AsyncIterator[str]: ...


class Bus(Protocol):
    async def start(self) -> None:
        """Connect; after this returns, publish and subscribe work."""

    async def close(self) -> None:
        """Disconnect and end every open subscription's iteration."""

    async def publish(self, channel: str, message: str) -> None:
        """Deliver `message` to every current subscriber of `channel` on every node."""

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """`publish` each (channel, message), in order: a batch of joins' events at once."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """`async with bus.subscribe(ch) as sub: async for msg in sub: ...`.

        The subscription is active once the `async with` body starts, so a message published
        after that point is never missed.
        """

    async def ping(self) -> bool:
        """True when the bus can deliver messages (used by /readyz)."""
