"""Accounts, sessions, the social graph and posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from parley.core.accounts import WITHDRAWN_STATES, Account, AccountState, handle_key
from parley.store.among import among, among_named
from parley.store.prebuilt import Prebuilt, RowLike
from parley.store.rows import Store, insert_ignoring_duplicate, record
from parley.store.tables import accounts, blocks, follows, sessions
from parley.store.types import storable_key


def account_record(row: RowLike) -> Account:
    return record(Account, row)


class AccountStore(Store):
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
        return await self._by_id(accounts, account_id, account_record)

    async def by_handle(self, handle: str) -> Account | None:
        if not storable_key(handle):
            return None
        query = select(accounts).where(accounts.c.handle_key == handle_key(handle))
        return await self._first(query, account_record)

    async def by_ids(self, ids: Sequence[str]) -> dict[str, Account]:
        return await self._by_ids(accounts, ids, account_record)

    async def in_state(self, ids: Sequence[str], state: AccountState) -> list[str]:
        """Which of these accounts are in `state`: only their ids, so that the sweep's check
        of every connected account builds no record for the thousands that are not."""
        found: list[str] = []
        for start in range(0, len(ids), 1000):
            query = select(accounts.c.id).where(
                among(accounts.c.id, list(ids[start : start + 1000])),
                accounts.c.state == state.value,
            )
            found += (await self.conn.execute(query)).scalars()
        return found

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
        self,
        account_id: str,
        state: AccountState,
        suspended_until: datetime | None = None,
        *,
        by: str | None = None,
    ) -> None:
        """`by`: the moderation action behind a suspension or limit (store.restrictions)."""
        await self.conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(state=state.value, suspended_until=suspended_until, restricted_by=by)
        )

    async def restrictions_due(self, state: AccountState, now: datetime) -> list[str]:
        """Accounts whose time-limited suspension, or limit, has run out."""
        query = select(accounts.c.id).where(
            accounts.c.state == state.value,
            accounts.c.suspended_until.is_not(None),
            accounts.c.suspended_until <= now,
        )
        return list((await self.conn.execute(query)).scalars())

    async def search(self, text: str, limit: int) -> list[Account]:
        if not storable_key(text):
            return []  # nothing stored holds it (PostgreSQL would refuse the query)
        pattern = "%" + text.lower().replace("%", "").replace("_", "\\_") + "%"
        query = (
            select(accounts)
            .where(accounts.c.handle_key.like(pattern, escape="\\"))
            .order_by(accounts.c.handle_key)
            .limit(limit)
        )
        return await self._all(query, account_record)

    async def find_people(self, text: str, limit: int) -> list[Account]:
        """Accounts anyone may look up (not suspended, not deleted) whose handle or display name
        holds `text`, whatever its case; handles starting with it first."""
        if not storable_key(text):
            return []  # nothing stored holds it (PostgreSQL would refuse the query)
        folded = text.lower()
        # autoescape: LIKE's wildcards in what was typed are plain text.
        query = (
            select(accounts)
            .where(
                accounts.c.state.not_in([s.value for s in WITHDRAWN_STATES]),
                or_(
                    accounts.c.handle_key.contains(folded, autoescape=True),
                    func.lower(accounts.c.display_name).contains(folded, autoescape=True),
                ),
            )
            .order_by(
                accounts.c.handle_key.startswith(folded, autoescape=True).desc(),
                accounts.c.handle_key,
            )
            .limit(limit)
        )
        return await self._all(query, account_record)

    async def set_admin(self, account_id: str, is_admin: bool) -> None:
        await self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(is_admin=is_admin)
        )

    async def other_usable_admins(self, account_id: str) -> int:
        """Admins besides this account who can still sign in and act (not suspended, not
        deactivated)."""
        query = select(func.count()).where(
            accounts.c.is_admin.is_(True),
            accounts.c.id != account_id,
            accounts.c.state.not_in([s.value for s in WITHDRAWN_STATES]),
        )
        return int((await self.conn.execute(query)).scalar_one())


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


# An unrevoked session and its account.
SessionFound = tuple[StoredSession, Account]

_SESSION_COLUMNS = (
    sessions.c.id.label("session_id"),
    sessions.c.account_id,
    sessions.c.scope,
    sessions.c.created_at.label("session_created_at"),
    sessions.c.last_used_at,
)


# Unrevoked sessions with their accounts (`where` the token hashes are among some).
_SESSIONS_FOUND = (
    select(*_SESSION_COLUMNS, sessions.c.token_hash, accounts)
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .where(sessions.c.revoked_at.is_(None))
)
# Which of some accounts a blocker blocks (every join batch asks its host's).
_BLOCKED_AMONG = Prebuilt(
    select(blocks.c.blocked_id).where(
        blocks.c.blocker_id == bindparam("blocker_id"),
        among_named(blocks.c.blocked_id, "account_ids"),
    )
)
_SESSIONS_BY_HASH = Prebuilt(_SESSIONS_FOUND.where(among_named(sessions.c.token_hash, "hashes")))


class SessionStore(Store):
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

    async def accounts_for(self, token_hashes: Sequence[str]) -> dict[str, SessionFound]:
        """Unrevoked sessions of these tokens and their accounts, by hash (expiry: the caller's)."""
        rows = await _SESSIONS_BY_HASH.rows(self.conn, hashes=list(token_hashes))
        return {row.token_hash: (_session(row), account_record(row)) for row in rows}

    async def maybe_ended(
        self,
        session_ids: Sequence[str],
        *,
        used_since: datetime,
        created_since: datetime,
        always_read: str,
    ) -> dict[str, StoredSession | None]:
        """Among these sessions, the revoked ones (None) and those that may have expired (not
        used since `used_since`, created before `created_since`, or of scope `always_read`),
        in one query: the others are live, and are not read back."""
        if not session_ids:
            return {}
        query = select(*_SESSION_COLUMNS, sessions.c.revoked_at).where(
            among(sessions.c.id, list(session_ids)),
            or_(
                sessions.c.revoked_at.is_not(None),
                sessions.c.last_used_at < used_since,
                sessions.c.created_at < created_since,
                sessions.c.scope == always_read,
            ),
        )
        return {
            row.session_id: None if row.revoked_at is not None else _session(row)
            for row in await self.conn.execute(query)
        }

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


def _edge(table: Table, source_id: str, target_id: str) -> ColumnElement[bool]:
    """The row saying `source_id` follows (or blocks) `target_id`: follows and blocks are keyed
    on their two account ids, in that order."""
    source, target = table.primary_key.columns
    return and_(source == source_id, target == target_id)


class SocialStore(Store):
    """Follows and blocks."""

    async def follow(self, follower_id: str, followee_id: str, now: datetime) -> None:
        await insert_ignoring_duplicate(
            self.conn,
            follows,
            dict(follower_id=follower_id, followee_id=followee_id, created_at=now),
        )

    async def unfollow(self, follower_id: str, followee_id: str) -> None:
        await self.conn.execute(delete(follows).where(_edge(follows, follower_id, followee_id)))

    async def follows(self, follower_id: str, followee_id: str) -> bool:
        return await self._exists(_edge(follows, follower_id, followee_id))

    async def follower_ids(self, followee_id: str) -> list[str]:
        query = select(follows.c.follower_id).where(follows.c.followee_id == followee_id)
        return list((await self.conn.execute(query)).scalars())

    async def followee_ids(self, follower_id: str) -> list[str]:
        query = select(follows.c.followee_id).where(follows.c.follower_id == follower_id)
        return list((await self.conn.execute(query)).scalars())

    async def counts(self, account_id: str) -> tuple[int, int]:
        """(followers, following), deleted accounts not counted."""
        present = accounts.c.state != AccountState.DEACTIVATED.value
        followers = (
            select(func.count())
            .select_from(follows.join(accounts, accounts.c.id == follows.c.follower_id))
            .where(follows.c.followee_id == account_id, present)
        )
        following = (
            select(func.count())
            .select_from(follows.join(accounts, accounts.c.id == follows.c.followee_id))
            .where(follows.c.follower_id == account_id, present)
        )
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
                or_(_edge(follows, blocker_id, blocked_id), _edge(follows, blocked_id, blocker_id))
            )
        )

    async def unblock(self, blocker_id: str, blocked_id: str) -> None:
        await self.conn.execute(delete(blocks).where(_edge(blocks, blocker_id, blocked_id)))

    async def blocks(self, blocker_id: str, blocked_id: str) -> bool:
        return await self._exists(_edge(blocks, blocker_id, blocked_id))

    async def blocked_among(self, blocker_id: str, account_ids: Sequence[str]) -> set[str]:
        """Which of `account_ids` the blocker blocks, in one query."""
        rows = await _BLOCKED_AMONG.rows(
            self.conn, blocker_id=blocker_id, account_ids=list(account_ids)
        )
        return {row.blocked_id for row in rows}

    async def _exists(self, where: ColumnElement[bool]) -> bool:
        return bool((await self.conn.execute(select(exists().where(where)))).scalar())
