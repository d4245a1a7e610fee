"""Posts and their authors: what is shown (not deleted by its author, not removed by a
moderator, not a deactivated account's) and, for moderators, whatever became of one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select, update

from parley.core.accounts import WITHDRAWN_STATES, AccountState, Post
from parley.core.location import Place
from parley.core.moderation_records import ModeratedPost, PostState
from parley.store.accounts import account_record
from parley.store.among import among
from parley.store.prebuilt import RowLike
from parley.store.rows import Store
from parley.store.tables import accounts, posts
from parley.store.types import storable_key

# Posts with their authors: the post's own id and time are labelled apart from the account's.
_POST_COLUMNS = (
    posts.c.id.label("post_id"),
    posts.c.text,
    posts.c.created_at.label("posted_at"),
    posts.c.place_latitude,
    posts.c.place_longitude,
    posts.c.place_observed_at,
    posts.c.place_label,
    posts.c.space_id,
    accounts,
)


def _post(row: RowLike) -> Post:
    place = None
    if row.place_observed_at is not None:
        place = Place(
            row.place_latitude, row.place_longitude, row.place_observed_at, row.place_label
        )
    return Post(row.post_id, account_record(row), row.text, row.posted_at, place, row.space_id)


def _shown_posts() -> Select[Any]:
    """Posts with their authors, but those deleted, removed by a moderator, or a deactivated
    account's (a deleted person's or bot's): nobody reads those; nor a suspended account's,
    while the suspension lasts."""
    return (
        select(*_POST_COLUMNS)
        .join(accounts, accounts.c.id == posts.c.author_id)
        .where(
            accounts.c.state.not_in([state.value for state in WITHDRAWN_STATES]),
            posts.c.deleted_at.is_(None),
            posts.c.removed_by.is_(None),
        )
    )


def _moderated(row: RowLike) -> ModeratedPost:
    if row.deleted_at is not None or row.state == AccountState.DEACTIVATED.value:
        state = PostState.DELETED
    elif row.removed_by is not None:
        state = PostState.REMOVED
    else:
        state = PostState.SHOWN
    return ModeratedPost(_post(row), state)


class PostStore(Store):
    async def create(
        self,
        *,
        id: str,
        author_id: str,
        text: str,
        now: datetime,
        place: Place | None = None,
        space_id: str | None = None,
    ) -> None:
        where: dict[str, object] = {}
        if place is not None:
            where = dict(
                place_latitude=place.latitude,
                place_longitude=place.longitude,
                place_observed_at=place.observed_at,
                place_label=place.label,
            )
        await self.conn.execute(
            insert(posts).values(
                id=id, author_id=author_id, text=text, created_at=now, space_id=space_id, **where
            )
        )

    async def delete(self, post_id: str, author_id: str, now: datetime) -> bool:
        """Its author deletes it; False when it is not theirs, or gone already."""
        if not storable_key(post_id):
            return False
        result = await self.conn.execute(
            update(posts)
            .where(
                posts.c.id == post_id, posts.c.author_id == author_id, posts.c.deleted_at.is_(None)
            )
            .values(deleted_at=now)
        )
        return bool(result.rowcount)

    async def by_authors(
        self, author_ids: Sequence[str], *, before: datetime | None, limit: int
    ) -> list[Post]:
        query = (
            _shown_posts()
            .where(among(posts.c.author_id, list(author_ids)))
            .order_by(posts.c.created_at.desc(), posts.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(posts.c.created_at < before)
        return await self._all(query, _post)

    async def by_ids(self, post_ids: Sequence[str]) -> dict[str, Post]:
        """The posts of these ids whose authors still exist, by id."""
        wanted = [i for i in post_ids if storable_key(i)]
        if not wanted:
            return {}
        query = _shown_posts().where(among(posts.c.id, wanted))
        return {post.id: post for post in await self._all(query, _post)}

    async def get(self, post_id: str) -> Post | None:
        if not storable_key(post_id):
            return None
        query = (
            select(*_POST_COLUMNS)
            .join(accounts, accounts.c.id == posts.c.author_id)
            .where(posts.c.id == post_id)
        )
        return await self._first(query, _post)

    # --- moderation ---------------------------------------------------------------------------

    async def moderated(self, post_ids: Sequence[str]) -> dict[str, ModeratedPost]:
        """These posts as moderators see them, whatever became of them, by id."""
        wanted = [i for i in post_ids if storable_key(i)]
        if not wanted:
            return {}
        query = (
            select(*_POST_COLUMNS, posts.c.deleted_at, posts.c.removed_by)
            .join(accounts, accounts.c.id == posts.c.author_id)
            .where(among(posts.c.id, wanted))
        )
        found = await self._all(query, _moderated)
        return {m.post.id: m for m in found}

    async def remove(self, post_id: str, action_id: str) -> bool:
        """A moderator removes it (by action `action_id`); False if it is not shown now."""
        result = await self.conn.execute(
            update(posts)
            .where(posts.c.id == post_id, posts.c.removed_by.is_(None))
            .values(removed_by=action_id)
        )
        return bool(result.rowcount)

    async def restore_removed_by(self, action_id: str) -> str | None:
        """The post that action removed is shown again (the removal overturned on appeal): its
        id."""
        result = await self.conn.execute(
            update(posts)
            .where(posts.c.removed_by == action_id)
            .values(removed_by=None)
            .returning(posts.c.id)
        )
        restored = result.scalar_one_or_none()
        return None if restored is None else str(restored)
