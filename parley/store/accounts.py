"""Accounts, sessions, the social graph and posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import Account, AccountState, Post, handle_key
from parley.store.tables import accounts, blocks, follows, posts, sessions
from parley.store.types import storable_key


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        handle=row.handle,
        display_name=row.display_name,
        bio=row.bio,
        state=AccountState(row.state),
        is_admin=row.is_admin,
        created_at=row.created_at,
    )


async def insert_ignoring_duplicate(
    conn: AsyncConnection, table: Any, values: dict[str, Any]
) -> bool:
    """Insert unless a row with the same key exists; True when a row was added."""
    dialect = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    result = await conn.execute(dialect(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


class AccountStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self,
        *,
        id: str,
        handle: str,
        display_name: str,
        password_hash: str,
        is_admin: bool,
        now: datetime,
    ) -> Account | None:
        """None when the handle is taken (in any case)."""
        added = await insert_ignoring_duplicate(
            self.conn,
            accounts,
            dict(
                id=id,
                handle=handle,
                handle_key=handle_key(handle),
                display_name=display_name,
                bio="",
                password_hash=password_hash,
                state=AccountState.ACTIVE.value,
                is_admin=is_admin,
                created_at=now,
            ),
        )
        return await self.by_id(id) if added else None

    async def by_id(self, account_id: str) -> Account | None:
        if not storable_key(account_id):
            return None
        row = (await self.conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
        return _account(row) if row else None

    async def by_handle(self, handle: str) -> Account | None:
        if not storable_key(handle):
            return None
        query = select(accounts).where(accounts.c.handle_key == handle_key(handle))
        row = (await self.conn.execute(query)).first()
        return _account(row) if row else None

    async def by_ids(self, ids: Sequence[str]) -> dict[str, Account]:
        if not ids:
            return {}
        rows = await self.conn.execute(select(accounts).where(accounts.c.id.in_(list(ids))))
        return {row.id: _account(row) for row in rows}

    async def password_hash(self, account_id: str) -> str | None:
        query = select(accounts.c.password_hash).where(accounts.c.id == account_id)
        return (await self.conn.execute(query)).scalar_one_or_none()

    async def set_password_hash(self, account_id: str, password_hash: str) -> None:
        await self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash)
        )

    async def update_profile(self, account_id: str, values: dict[str, str]) -> None:
        if values:
            await self.conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(**values)
            )

    async def set_state(
        self, account_id: str, state: AccountState, suspended_until: datetime | None = None
    ) -> None:
        await self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(state=state.value, suspended_until=suspended_until)
        )

    async def suspensions_due(self, now: datetime) -> list[str]:
        """Accounts whose time-limited suspension has run out."""
        query = select(accounts.c.id).where(
            accounts.c.state == AccountState.SUSPENDED.value,
            accounts.c.suspended_until.is_not(None),
            accounts.c.suspended_until <= now,
        )
        return list((await self.conn.execute(query)).scalars())

    async def search(self, text: str, limit: int) -> list[Account]:
        pattern = "%" + text.lower().replace("%", "").replace("_", "\\_") + "%"
        query = (
            select(accounts)
            .where(accounts.c.handle_key.like(pattern, escape="\\"))
            .order_by(accounts.c.handle_key)
            .limit(limit)
        )
        return [_account(row) for row in await self.conn.execute(query)]

    async def set_admin(self, account_id: str, is_admin: bool) -> None:
        await self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(is_admin=is_admin)
        )


@dataclass(frozen=True)
class StoredSession:
    id: str
    account_id: str
    scope: str
    created_at: datetime
    last_used_at: datetime


def _session(row: Any) -> StoredSession:  # a Row of _SESSION_COLUMNS
    return StoredSession(
        id=row.session_id,
        account_id=row.account_id,
        scope=row.scope,
        created_at=row.session_created_at,
        last_used_at=row.last_used_at,
    )


_SESSION_COLUMNS = (
    sessions.c.id.label("session_id"),
    sessions.c.account_id,
    sessions.c.scope,
    sessions.c.created_at.label("session_created_at"),
    sessions.c.last_used_at,
)


class SessionStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(
        self, *, id: str, account_id: str, token_hash: str, now: datetime, scope: str = "full"
    ) -> None:
        await self.conn.execute(
            insert(sessions).values(
                id=id,
                account_id=account_id,
                token_hash=token_hash,
                created_at=now,
                last_used_at=now,
                scope=scope,
            )
        )

    async def account_for(self, token_hash: str) -> tuple[StoredSession, Account] | None:
        """The unrevoked session of a token and its account (expiry is the caller's to judge)."""
        query = (
            select(*_SESSION_COLUMNS, accounts)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
        )
        row = (await self.conn.execute(query)).first()
        return (_session(row), _account(row)) if row else None

    async def live(self, session_ids: Sequence[str]) -> dict[str, StoredSession]:
        """The unrevoked ones among these sessions, in one query."""
        if not session_ids:
            return {}
        query = select(*_SESSION_COLUMNS).where(
            sessions.c.id.in_(list(session_ids)), sessions.c.revoked_at.is_(None)
        )
        return {row.session_id: _session(row) for row in await self.conn.execute(query)}

    async def touch(self, session_id: str, now: datetime, *, unless_after: datetime) -> None:
        """Record a use, unless one after `unless_after` is recorded already (another request
        of the same session got there first)."""
        await self.conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.last_used_at < unless_after)
            .values(last_used_at=now)
        )

    async def revoke(self, session_id: str, now: datetime) -> None:
        await self.conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all(
        self, account_id: str, now: datetime, *, keep: str | None = None
    ) -> list[str]:
        """Revoke every live session of the account but `keep`; the ids revoked."""
        query = (
            update(sessions)
            .where(sessions.c.account_id == account_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(sessions.c.id)
        )
        if keep is not None:
            query = query.where(sessions.c.id != keep)
        return list((await self.conn.execute(query)).scalars())


class SocialStore:
    """Follows and blocks."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def follow(self, follower_id: str, followee_id: str, now: datetime) -> None:
        await insert_ignoring_duplicate(
            self.conn,
            follows,
            dict(follower_id=follower_id, followee_id=followee_id, created_at=now),
        )

    async def unfollow(self, follower_id: str, followee_id: str) -> None:
        await self.conn.execute(
            delete(follows).where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )

    async def follows(self, follower_id: str, followee_id: str) -> bool:
        query = select(
            exists().where(
                follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
            )
        )
        return bool((await self.conn.execute(query)).scalar())

    async def follower_ids(self, followee_id: str) -> list[str]:
        query = select(follows.c.follower_id).where(follows.c.followee_id == followee_id)
        return list((await self.conn.execute(query)).scalars())

    async def followee_ids(self, follower_id: str) -> list[str]:
        query = select(follows.c.followee_id).where(follows.c.follower_id == follower_id)
        return list((await self.conn.execute(query)).scalars())

    async def counts(self, account_id: str) -> tuple[int, int]:
        """(followers, following)."""
        followers = select(func.count()).where(follows.c.followee_id == account_id)
        following = select(func.count()).where(follows.c.follower_id == account_id)
        return (
            int((await self.conn.execute(followers)).scalar_one()),
            int((await self.conn.execute(following)).scalar_one()),
        )

    async def block(self, blocker_id: str, blocked_id: str, now: datetime) -> None:
        await insert_ignoring_duplicate(
            self.conn, blocks, dict(blocker_id=blocker_id, blocked_id=blocked_id, created_at=now)
        )
        # A block ends following both ways.
        await self.conn.execute(
            delete(follows).where(
                or_(
                    and_(follows.c.follower_id == blocker_id, follows.c.followee_id == blocked_id),
                    and_(follows.c.follower_id == blocked_id, follows.c.followee_id == blocker_id),
                )
            )
        )

    async def unblock(self, blocker_id: str, blocked_id: str) -> None:
        await self.conn.execute(
            delete(blocks).where(
                blocks.c.blocker_id == blocker_id, blocks.c.blocked_id == blocked_id
            )
        )

    async def blocks(self, blocker_id: str, blocked_id: str) -> bool:
        query = select(
            exists().where(blocks.c.blocker_id == blocker_id, blocks.c.blocked_id == blocked_id)
        )
        return bool((await self.conn.execute(query)).scalar())


class PostStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def create(self, *, id: str, author_id: str, text: str, now: datetime) -> None:
        await self.conn.execute(
            insert(posts).values(id=id, author_id=author_id, text=text, created_at=now)
        )

    async def by_authors(
        self, author_ids: Sequence[str], *, before: datetime | None, limit: int
    ) -> list[Post]:
        query = (
            select(
                posts.c.id.label("post_id"),
                posts.c.text,
                posts.c.created_at.label("posted_at"),
                accounts,
            )
            .join(accounts, accounts.c.id == posts.c.author_id)
            .where(posts.c.author_id.in_(list(author_ids)))
            .order_by(posts.c.created_at.desc(), posts.c.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(posts.c.created_at < before)
        rows = await self.conn.execute(query)
        return [Post(r.post_id, _account(r), r.text, r.posted_at) for r in rows]

    async def get(self, post_id: str) -> Post | None:
        if not storable_key(post_id):
            return None
        query = (
            select(
                posts.c.id.label("post_id"),
                posts.c.text,
                posts.c.created_at.label("posted_at"),
                accounts,
            )
            .join(accounts, accounts.c.id == posts.c.author_id)
            .where(posts.c.id == post_id)
        )
        row = (await self.conn.execute(query)).first()
        return Post(row.post_id, _account(row), row.text, row.posted_at) if row else None
