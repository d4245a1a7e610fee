"""Publishing space events on the bus, so every node's sockets (and media) hear of them."""

from __future__ import annotations

from collections.abc import Sequence

from parley.bus import messages
from parley.bus.base import Bus
from parley.core.spaces.events import Event


class EventPublisher:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish(self, events: Sequence[Event]) -> None:
        """Called after the events' transaction committed: a subscriber that sees a gap can
        always read the missing events back from the store."""
        await messages.publish_many(self.bus, events)
