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

from parley.core.expiring_cache import RecordCache
from parley.core.spaces.model import Space


class ExposureCache(RecordCache[str, Space]):
    def __init__(self, ttl: timedelta, capacity: int = 10_000) -> None:
        super().__init__(ttl, capacity)

    def put(self, space: Space, now: datetime, *, generation: int) -> None:
        """Remember a space found shown while `generation` was current; nothing is kept if
        anything was dropped since (the read may predate its host's suspension)."""
        self._memory.put(space.id, space, now, generation=generation)

    def forget_hosts(self, account_ids: Collection[str]) -> None:
        self._forget_among(account_ids, lambda s: s.host_id)

    def forget_spaces(self, space_ids: Collection[str]) -> None:
        self._forget_among(space_ids, lambda s: s.id)

    def host_ids(self) -> set[str]:
        return {s.host_id for s in self._memory.values()}
