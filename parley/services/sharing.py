"""A space as anyone may see it without an account: its share page (`/s/{id}`) and its live HLS.
What is withheld, and why, is decided in `core/spaces/exposure.py`."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import timedelta

from parley.core.errors import Gone, NotFound
from parley.core.spaces.exposure import check_exposed
from parley.core.spaces.exposure_cache import ExposureCache
from parley.core.spaces.model import Space
from parley.services.accounts import Caller
from parley.services.common import Clock
from parley.services.spaces import SpaceService
from parley.services.views import SpaceView
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.spaces import SpaceStore


class SharingService:
    def __init__(
        self, db: Database, spaces: SpaceService, *, cache_seconds: float, clock: Clock
    ) -> None:
        self.db = db
        self.spaces = spaces
        self.clock = clock
        # Spaces found shown lately: every HLS request asks. The node drops a host's spaces
        # when it hears of the suspension (the bus, then its sweep), a space when it ends here.
        self.cache = ExposureCache(timedelta(seconds=cache_seconds))

    async def check(self, space_id: str, *, remembered: bool = True) -> Space:
        """The space, if it may be shown publicly: else 404 `space_not_found` or
        `space_unavailable` (its host is suspended), 410 `space_removed` (moderation ended it).
        From memory for a few seconds once found shown (unless not `remembered`: the space as
        it is now, its state included); else one read, no text rendered."""
        now = self.clock()
        cached = self.cache.get(space_id, now) if remembered else None
        if cached is not None:
            return cached
        generation = self.cache.generation
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            host = await AccountStore(conn).by_id(space.host_id)
        check_exposed(space, host)
        self.cache.put(space, now, generation=generation)
        return space

    def forget_hosts(self, account_ids: Collection[str]) -> None:
        """These accounts were suspended: their spaces are read again before being shown."""
        self.cache.forget_hosts(account_ids)

    def forget_spaces(self, space_ids: Collection[str]) -> None:
        self.cache.forget_spaces(space_ids)

    async def exposed(self, space_id: str, viewer: Caller | None = None) -> SpaceView:
        """The space as its share page and `GET /spaces/{id}` show it (title, host, stage),
        under the same rule, checked on what the view read: one read, not a check and a view."""
        now, generation = self.clock(), self.cache.generation
        view = await self.spaces.view(space_id, viewer)
        check_exposed(view.space, view.host)
        self.cache.put(view.space, now, generation=generation)
        return view

    async def shown(self, space_ids: Iterable[str], viewer: Caller | None) -> dict[str, SpaceView]:
        """Of these spaces, those that may be shown (as `exposed` says), by id. One view each:
        it serves the spaces a page of posts shares, a handful at most."""
        found: dict[str, SpaceView] = {}
        for space_id in dict.fromkeys(space_ids):
            try:
                found[space_id] = await self.exposed(space_id, viewer)
            except (NotFound, Gone):
                continue  # gone, or taken down since: the post is shown without it
        return found
