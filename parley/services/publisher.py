"""Publishing space events on the bus, so every node's sockets (and media) hear of them."""

from __future__ import annotations

import json
from collections.abc import Sequence

from parley.bus.base import Bus
from parley.core.spaces.events import Event


def space_channel(space_id: str) -> str:
    return f"space:{space_id}"


def encode(event: Event) -> str:
    return json.dumps(event.to_wire(), ensure_ascii=False, separators=(",", ":"))


class EventPublisher:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def publish(self, events: Sequence[Event]) -> None:
        """Called after the events' transaction committed: a subscriber that sees a gap can
        always read the missing events back from the store."""
        for event in events:
            await self.bus.publish(space_channel(event.space_id), encode(event))
