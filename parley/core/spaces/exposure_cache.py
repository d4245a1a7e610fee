"""A node's memory of spaces it recently found shown publicly (`exposure.check_exposed`), so that
each HLS request, hundreds a second without a cache in front, does not read the database.

Pure: the caller passes `now`. Only a space that may be shown is kept, never a refusal (a lifted
suspension shows at once), for at most `ttl`; it is dropped by space (it ended) or by host (the
host was suspended) when the node hears of it (core/expiring_cache.py: a fill that raced a
drop is refused).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from parley.core.expiring_cache import ExpiringCache
from parley.core.spaces.model import Space


class ExposureCache:
    def __init__(self, ttl: timedelta, capacity: int = 10_000) -> None:
        self._memory: ExpiringCache[str, Space] = ExpiringCache(ttl, capacity)

    @property
    def generation(self) -> int:
        return self._memory.generation

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, space_id: str, now: datetime) -> Space | None:
        return self._memory.get(space_id, now)

    def put(self, space: Space, now: datetime, *, generation: int) -> None:
        """Remember a space found shown while `generation` was current; nothing is kept if
        anything was dropped since (the read may predate its host's suspension)."""
        self._memory.put(space.id, space, now, generation=generation)

    def forget_hosts(self, account_ids: Collection[str]) -> None:
        if account_ids:
            self._memory.forget(lambda s: s.host_id in account_ids)

    def forget_spaces(self, space_ids: Collection[str]) -> None:
        if space_ids:
            self._memory.forget(lambda s: s.id in space_ids)

    def host_ids(self) -> set[str]:
        return {s.host_id for s in self._memory.values()}
