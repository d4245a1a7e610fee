"""What a node remembers of the database for a short while, and forgets at once when told.

Pure: the caller passes `now`. An entry lives at most `ttl`; a full cache sheds its oldest
entry. Entries are forgotten by a test on their value when the node hears that what they stand
for changed (a suspension, a sign-out, a space ending). A fill that raced such a change is
refused: every forgetting bumps `generation`, and `put` stores only what was read under the
generation it names (the read may predate the change). The session cache and the exposure
cache are two uses, each a `RecordCache` of its own kind of record.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(self, ttl: timedelta, capacity: int) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.generation = 0
        self._entries: dict[K, tuple[V, datetime]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, now: datetime) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, stored_at = entry
        # A clock moved back (tests do) leaves an entry from "the future": still fresh.
        if now - stored_at >= self.ttl:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V, now: datetime, *, generation: int) -> None:
        """Remember `value`, read while `generation` was current; nothing is kept if anything
        was forgotten since."""
        if generation != self.generation or self.ttl <= timedelta(0):
            return
        if len(self._entries) >= self.capacity and key not in self._entries:
            # Oldest first (dicts keep insertion order): a full cache sheds its stalest entry.
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (value, now)

    def change(self, key: K, how: Callable[[V], V]) -> None:
        """Amend a remembered value in place (its age unchanged)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (how(entry[0]), entry[1])

    def forget(self, which: Callable[[V], bool]) -> None:
        self.generation += 1
        for key in [k for k, (value, _) in self._entries.items() if which(value)]:
            del self._entries[key]

    def values(self) -> list[V]:
        return [value for value, _ in self._entries.values()]


class RecordCache(Generic[K, V]):
    """A cache of one kind of record, read as every such cache is read; each kind says how it is
    filled and forgotten, by its record's own fields (the raw `put` and `forget` stay inside)."""

    def __init__(self, ttl: timedelta, capacity: int) -> None:
        self._memory: ExpiringCache[K, V] = ExpiringCache(ttl, capacity)

    @property
    def generation(self) -> int:
        return self._memory.generation

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, key: K, now: datetime) -> V | None:
        return self._memory.get(key, now)

    def _forget_among(self, ids: Collection[str], of: Callable[[V], str]) -> None:
        """Forget the records whose `of` is one of `ids`. Naming none forgets nothing and leaves
        the generation alone, so that fills in flight are not refused for nothing."""
        if ids:
            self._memory.forget(lambda value: of(value) in ids)
