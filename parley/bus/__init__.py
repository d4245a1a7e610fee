"""The event bus: in-process for one node, Redis pub/sub for several."""

from __future__ import annotations

from parley.bus.base import Bus, Subscription
from parley.bus.memory import MemoryBus


def make_bus(redis_url: str | None) -> Bus:
    if redis_url is None:
        return MemoryBus()
    from parley.bus.redis import RedisBus

    return RedisBus(redis_url)


__all__ = ["Bus", "MemoryBus", "Subscription", "make_bus"]
