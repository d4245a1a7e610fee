"""Posts pinned above a space's stage: the host and cohosts pin and unpin (a decision about the
space like any other, in its one transaction: `rules.set_pins`), everyone reads them. The list's
own rules are core/spaces/pins.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import Post
from parley.core.errors import NotFound
from parley.core.spaces import pins, rules
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.services.accounts import Caller
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.store.db import Database
from parley.store.posts import PostStore
from parley.store.spaces import SpaceStore

PinChange = Callable[[tuple[str, ...]], tuple[str, ...]]


@dataclass(eq=False)
class PinService:
    db: Database
    decisions: SpaceDecisions
    _: KW_ONLY
    # Refuses text with a blocked link in it (LinkChecks.guard): a post is checked again as
    # it is pinned.
    guard_links: Callable[[str], Awaitable[None]]
    clock: Clock

    async def pin(self, caller: Caller, space_id: str, post_id: str) -> None:
        """Pin a post above the stage. It is shown to a whole room again, so its links are
        checked again, as they are now: a post with a blocked one is refused. So is a post
        nobody may read any more (deleted, or its author's account): it would hold a slot that
        shows nothing; pins that became such since give their slots up."""
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            pinned = space.pinned if space else ()
            shown = await PostStore(conn).by_ids([post_id, *pinned])
        post = shown.get(post_id)
        if post is None:
            raise NotFound("post_not_found", "No such post")
        await self.guard_links(post.text)
        gone = frozenset(pinned) - shown.keys()
        await self._set(caller, space_id, partial(pins.pinned_with, post_id=post.id, gone=gone))

    async def unpin(self, caller: Caller, space_id: str, post_id: str) -> None:
        await self._set(caller, space_id, partial(pins.pinned_without, post_id=post_id))

    async def _set(self, caller: Caller, space_id: str, change: PinChange) -> None:
        me = caller.account.id
        await self.decisions.act(
            space_id, caller, lambda s: rules.set_pins(s, me, self.clock(), change)
        )

    async def unpin_everywhere(self, post_id: str, by: str) -> None:
        """The post is shown to nobody any more: out of every live or scheduled space's pins
        now, each room told (`pins_changed`), not at the host's next pin."""
        async with self.db.read() as conn:
            space_ids = await SpaceStore(conn).pinning(post_id)
        for space_id in space_ids:

            async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
                return rules.drop_pin(state, post_id, self.clock(), by)

            await self.decisions.decide(space_id, [], decide)

    async def pinned(self, space_id: str) -> list[Post]:
        """The space's pinned posts, the latest first; those nobody may read any more are left
        out."""
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            posts = await PostStore(conn).by_ids(space.pinned)
        return [posts[i] for i in space.pinned if i in posts]
