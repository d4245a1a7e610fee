"""Storage of held posts (core.held_posts) until the sweep moves them into `posts`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update

from parley.core.accounts import AccountState
from parley.core.held_posts import HeldPost
from parley.core.location import Place
from parley.store.prebuilt import RowLike
from parley.store.rows import Store
from parley.store.tables import accounts, held_posts
from parley.store.types import storable_key


def _held(row: RowLike) -> HeldPost:
    place = Place(row.place_latitude, row.place_longitude, row.place_observed_at, row.place_label)
    return HeldPost(
        row.id,
        row.author_id,
        row.text,
        place,
        row.created_at,
        row.publish_at,
        row.rule,
        row.space_id,
    )


class HeldPostStore(Store):
    async def add(self, held: HeldPost) -> None:
        await self.conn.execute(
            insert(held_posts).values(
                id=held.id,
                author_id=held.author_id,
                text=held.text,
                place_latitude=held.place.latitude,
                place_longitude=held.place.longitude,
                place_observed_at=held.place.observed_at,
                place_label=held.place.label,
                created_at=held.created_at,
                publish_at=held.publish_at,
                rule=held.rule,
                space_id=held.space_id,
            )
        )

    async def count_of(self, author_id: str) -> int:
        query = select(func.count()).where(held_posts.c.author_id == author_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def of_author(self, author_id: str) -> list[HeldPost]:
        query = (
            select(held_posts)
            .where(held_posts.c.author_id == author_id)
            .order_by(held_posts.c.publish_at, held_posts.c.id)
        )
        return await self._all(query, _held)

    async def due(self, now: datetime, limit: int) -> list[HeldPost]:
        """Held posts whose time has come, of authors who may still post: a suspended
        author's wait until the suspension ends, a deactivated one's forever."""
        query = (
            select(held_posts)
            .join(accounts, accounts.c.id == held_posts.c.author_id)
            .where(held_posts.c.publish_at <= now, accounts.c.state == AccountState.ACTIVE.value)
            .order_by(held_posts.c.publish_at, held_posts.c.id)
            .limit(limit)
        )
        return await self._all(query, _held)

    async def take(self, held_id: str, *, author_id: str | None = None) -> bool:
        """Remove it; False if it was not there (cancelled, or published by another node: on
        PostgreSQL a second node's delete waits for the first's commit, then finds nothing)."""
        if not storable_key(held_id):
            return False
        query = delete(held_posts).where(held_posts.c.id == held_id)
        if author_id is not None:
            query = query.where(held_posts.c.author_id == author_id)
        return bool((await self.conn.execute(query)).rowcount)

    async def reschedule(self, held_id: str, publish_at: datetime, rule: str) -> None:
        await self.conn.execute(
            update(held_posts)
            .where(held_posts.c.id == held_id)
            .values(publish_at=publish_at, rule=rule)
        )

    async def drop_all_of(self, author_id: str) -> None:
        await self.conn.execute(delete(held_posts).where(held_posts.c.author_id == author_id))
