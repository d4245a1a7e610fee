"""The cycle collector's policy for a server holding thousands of long-lived sockets.

Python's full collection walks every tracked object. Each event socket keeps about 160 of them
(its coroutines, the protocol, headers, timers), so at 10,000 sockets a full collection walked
1.8 million objects and paused the node for 1.4 s, once every few thousand joins: the CPU per
join grew with the audience, and the last thousand joins of a 10,000-client rush cost twice the
first (`gc.callbacks`, docs/benchmarks.md).

Here what survives a full collection is frozen (`gc.freeze`): it was reachable a moment ago,
and most of it (a socket's objects) will live as long as its socket, then be freed by reference
counting, frozen or not. The next full collection walks only what came since, so its pause and
its cost per join no longer grow with the number of sockets. What freezing costs is the rare
object that was alive when frozen and later became part of an unreachable cycle: the collector
no longer sees it. Closing 2,000 sockets left about one such object per socket, so the policy
lets the frozen objects turn over once (as many freed as were frozen at the last complete walk,
and at least `COMPLETE_WALK_AFTER_FREED`) and then has the next full collection walk everything.
"""

from __future__ import annotations

import gc
from typing import Any

# Frozen objects freed before a complete walk is due, at least: with about one leaked object per
# 160 freed, a few thousand objects at most wait for it.
COMPLETE_WALK_AFTER_FREED = 1_000_000


class FreezingCollector:
    """Freezes the survivors of every full collection; unfreezes once they have turned over.
    Installed in `gc.callbacks`, which calls it before and after every collection."""

    def __init__(self, complete_walk_after: int = COMPLETE_WALK_AFTER_FREED) -> None:
        self.complete_walk_after = complete_walk_after
        # Frozen objects right after the last freeze, and right after the last complete walk.
        self._frozen = self._walked = gc.get_freeze_count()
        # Frozen objects freed (by reference counting) since the last complete walk.
        self.freed = 0
        # Everything was unfrozen: the next full collection walks it all.
        self._unfrozen = False
        self.complete_walks = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        if self._unfrozen:
            self._unfrozen = False
            self.complete_walks += 1
            gc.freeze()
            self._frozen = self._walked = gc.get_freeze_count()
            self.freed = 0
            return
        self.freed += max(0, self._frozen - gc.get_freeze_count())
        if self.freed >= max(self._walked, self.complete_walk_after):
            # What froze and has since become an unreachable cycle is freed by the next one.
            gc.unfreeze()
            self._unfrozen = True
            return
        gc.freeze()
        self._frozen = gc.get_freeze_count()


_installed: FreezingCollector | None = None


def install() -> FreezingCollector:
    """Once per process, whatever number of apps it runs (tests start several nodes)."""
    global _installed
    if _installed is None:
        _installed = FreezingCollector()
        gc.callbacks.append(_installed)
    return _installed
