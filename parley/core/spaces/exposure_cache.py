"""A node's memory of spaces it recently found shown publicly (`exposure.check_exposed`), so that
each HLS request, hundreds a second without a cache in front, does not read the database.

Pure: the caller passes `now`. Only a space that may be shown is kept, never a refusal (a lifted
suspension shows at once), for at most `ttl`; it is dropped by space (it ended) or by host (the
host was suspended) when the node hears of it. A fill that raced such a drop is refused: every
drop bumps `generation`, and `put` only stores what was read under the generation it names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.core.spaces.model import Space


@dataclass(frozen=True)
class ExposedSpace:
    space: Space
    stored_at: datetime


class ExposureCache:
    def __init__(self, ttl: timedelta, capacity: int = 10_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.generation = 0
        self._by_space: dict[str, ExposedSpace] = {}

    def __len__(self) -> int:
        return len(self._by_space)

    def get(self, space_id: str, now: datetime) -> Space | None:
        entry = self._by_space.get(space_id)
        if entry is None:
            return None
        # A clock moved back (tests do) leaves an entry from "the future": still fresh.
        if now - entry.stored_at >= self.ttl:
            del self._by_space[space_id]
            return None
        return entry.space

    def put(self, space: Space, now: datetime, *, generation: int) -> None:
        """Remember a space found shown while `generation` was current; nothing is kept if
        anything was dropped since (the read may predate its host's suspension)."""
        if generation != self.generation or self.ttl <= timedelta(0):
            return
        if len(self._by_space) >= self.capacity and space.id not in self._by_space:
            # Oldest first (dicts keep insertion order): a full cache sheds its stalest entry.
            del self._by_space[next(iter(self._by_space))]
        self._by_space[space.id] = ExposedSpace(space, now)

    def forget_hosts(self, account_ids: Collection[str]) -> None:
        if account_ids:
            self.generation += 1
            self._drop(lambda e: e.space.host_id in account_ids)

    def forget_spaces(self, space_ids: Collection[str]) -> None:
        if space_ids:
            self.generation += 1
            self._drop(lambda e: e.space.id in space_ids)

    def host_ids(self) -> set[str]:
        return {e.space.host_id for e in self._by_space.values()}

    def _drop(self, which: Callable[[ExposedSpace], bool]) -> None:
        for key in [k for k, e in self._by_space.items() if which(e)]:
            del self._by_space[key]
