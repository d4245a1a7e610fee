"""Held posts: kept back at their author's request while the location policy says their place
is too recent (core.held_posts), listed and cancelled by the author, and published by the
node's sweep once the node's clock reaches their time.

Every node sweeps; a held post is moved into `posts` (same id) in one transaction that first
deletes it from `held_posts`, so of two nodes sweeping at once only one publishes it. The policy
is read again at publication: one made stricter meanwhile holds the post longer, never less.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core import location
from parley.core.errors import Conflict, NotFound
from parley.core.held_posts import MAX_HELD_PER_AUTHOR, PUBLISH_BATCH, HeldPost
from parley.services.common import Clock
from parley.store.db import Database
from parley.store.held_posts import HeldPostStore
from parley.store.policies import PolicyStore
from parley.store.posts import PostStore

if TYPE_CHECKING:
    from parley.services.accounts import Caller


async def hold(conn: AsyncConnection, held: HeldPost) -> HeldPost:
    """Keep the post back, in the caller's transaction (the one that read the policy)."""
    store = HeldPostStore(conn)
    if await store.count_of(held.author_id) >= MAX_HELD_PER_AUTHOR:
        raise Conflict(
            "too_many_held_posts",
            f"At most {MAX_HELD_PER_AUTHOR} posts may wait for the location policy at once",
        )
    await store.add(held)
    return held


@dataclass(eq=False)
class HeldPosts:
    db: Database
    _: KW_ONLY
    clock: Clock

    async def of(self, caller: Caller) -> list[HeldPost]:
        """The caller's held posts, the next to be published first."""
        async with self.db.read() as conn:
            return await HeldPostStore(conn).of_author(caller.account.id)

    async def cancel(self, caller: Caller, held_id: str) -> None:
        """It will not be published; too late once it has been (404)."""
        async with self.db.write() as conn:
            if not await HeldPostStore(conn).take(held_id, author_id=caller.account.id):
                raise NotFound("held_post_not_found", "You have no such held post")

    async def publish_due(self) -> int:
        """Publish what the clock has reached; how many were published (the sweep's part)."""
        now, published = self.clock(), 0
        # Most sweeps find nothing due: asked on a read, they leave the one writer alone.
        if not await self.db.read_whole(lambda conn: HeldPostStore(conn).due(now, 1)):
            return 0
        async with self.db.write() as conn:
            store = HeldPostStore(conn)
            policy = await PolicyStore(conn).location()
            for held in await store.due(now, PUBLISH_BATCH):
                later = location.held_until(policy, held.place, now)
                if later is not None:
                    await store.reschedule(held.id, later, policy.rule)
                elif await store.take(held.id):
                    await PostStore(conn).create(
                        id=held.id,
                        author_id=held.author_id,
                        text=held.text,
                        now=now,
                        place=held.place,
                        space_id=held.space_id,
                    )
                    published += 1
        return published
