"""The cycle collector's policy for a server holding thousands of long-lived sockets.

Python's full collection walks every tracked object. Each event socket kept about 175 of them
(its coroutines, the protocol, headers, timers), so at 10,000 sockets a full collection walked
1.8 million objects and paused the node for 1.4 s, once every few thousand joins: the CPU per
join grew with the audience, and the last thousand joins of a 10,000-client rush cost twice the
first (`gc.callbacks`, docs/benchmarks.md).

Here what survives a full collection is frozen (`gc.freeze`): it was reachable a moment ago,
and most of it (a socket's objects) will live as long as its socket, then be freed by reference
counting, frozen or not. The next full collection walks only what came since, so its pause and
its cost per join no longer grow with the number of sockets. What freezing costs is the rare
object that was alive when frozen and later became part of an unreachable cycle: the collector
no longer sees it. Closing 2,000 sockets left about one such object per socket, so every
`COMPLETE_WALK_SECONDS` the next full collection walks everything again and frees them.
(How many frozen objects were freed would be the better measure, but `gc.get_freeze_count`
walks the whole frozen list: at 10,000 sockets, called twice per full collection, it took
about two thirds as much CPU as the collections themselves, py-spy.)
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

# How often at most a full collection walks every object, frozen or not.
COMPLETE_WALK_SECONDS = 600.0


class FreezingCollector:
    """Freezes the survivors of every full collection; unfreezes everything once in a while.
    Installed in `gc.callbacks`, which calls it before and after every collection."""

    def __init__(
        self,
        every: float = COMPLETE_WALK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every = every
        self.clock = clock
        self._walked_at = clock()
        # Everything was unfrozen: the next full collection walks it all.
        self._unfrozen = False
        self.complete_walks = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        if self._unfrozen:
            self._unfrozen = False
            self.complete_walks += 1
            self._walked_at = self.clock()
        elif self.clock() - self._walked_at >= self.every:
            # What froze and has since become an unreachable cycle is freed by the next one.
            gc.unfreeze()
            self._unfrozen = True
            return
        gc.freeze()


_installed: FreezingCollector | None = None


def install() -> FreezingCollector:
    """Once per process, whatever number of apps it runs (tests start several nodes)."""
    global _installed
    if _installed is None:
        _installed = FreezingCollector()
        gc.callbacks.append(_installed)
    return _installed
