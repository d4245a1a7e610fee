"""Automated accounts and API tokens (tables `bots` and `api_tokens`; a token's secret, last use
and revocation live in its `sessions` row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from parley.core.accounts import Account, AccountState
from parley.core.tokens import AccountRef, StoredToken, scopes_from_text
from parley.store.among import among_named
from parley.store.prebuilt import Prebuilt, RowLike
from parley.store.rows import Store, record
from parley.store.tables import accounts, api_tokens, bots, sessions

TOKEN_SESSION_SCOPE = "token"


# A bot its owner deleted stays an account (its handle taken, its moderation history kept), but
# is no longer one of the owner's bots.
_not_deleted = accounts.c.state != AccountState.DEACTIVATED.value

# The owners of the bots among some accounts (every join batch asks; store/prebuilt.py).
_OWNERS_OF = Prebuilt(
    select(bots.c.account_id, accounts.c.id, accounts.c.handle)
    .join(accounts, accounts.c.id == bots.c.owner_id)
    .where(among_named(bots.c.account_id, "account_ids"))
)


class BotStore(Store):
    async def add(self, *, account_id: str, owner_id: str, now: datetime) -> None:
        await self.conn.execute(
            insert(bots).values(account_id=account_id, owner_id=owner_id, created_at=now)
        )

    async def owners_of(self, account_ids: Sequence[str]) -> dict[str, AccountRef]:
        """For the bots among these accounts, their owners."""
        if not account_ids:
            return {}
        rows = await _OWNERS_OF.rows(self.conn, account_ids=sorted(set(account_ids)))
        return {row.account_id: AccountRef(row.id, row.handle) for row in rows}

    async def of_owner(self, owner_id: str) -> list[Account]:
        query = (
            select(accounts)
            .join(bots, bots.c.account_id == accounts.c.id)
            .where(bots.c.owner_id == owner_id, _not_deleted)
            .order_by(accounts.c.handle_key)
        )
        return await self._all(query, _account)

    async def count_of(self, owner_id: str) -> int:
        query = (
            select(func.count())
            .select_from(bots)
            .join(accounts, accounts.c.id == bots.c.account_id)
            .where(bots.c.owner_id == owner_id, _not_deleted)
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def restricted_with(self, owner_id: str) -> list[Account]:
        """The owner's bots suspended or limited because the owner was."""
        query = (
            select(accounts)
            .join(bots, bots.c.account_id == accounts.c.id)
            .where(
                bots.c.owner_id == owner_id,
                bots.c.suspended_with_owner.is_(True),
                accounts.c.state.in_([AccountState.SUSPENDED.value, AccountState.LIMITED.value]),
            )
        )
        return await self._all(query, _account)

    async def is_with_owner(self, account_id: str) -> bool:
        """Whether this bot is restricted because its owner is (False for any other account)."""
        query = select(bots.c.suspended_with_owner).where(bots.c.account_id == account_id)
        return bool((await self.conn.execute(query)).scalar())

    async def set_with_owner(self, account_id: str, with_owner: bool) -> None:
        await self.conn.execute(
            update(bots)
            .where(bots.c.account_id == account_id)
            .values(suspended_with_owner=with_owner)
        )

    async def owner_account(self, account_id: str) -> Account | None:
        """The owner of this account if it is a bot."""
        query = (
            select(accounts)
            .join(bots, bots.c.owner_id == accounts.c.id)
            .where(bots.c.account_id == account_id)
        )
        return await self._first(query, _account)


_speaker = aliased(accounts)


def _account(row: RowLike) -> Account:
    return record(Account, row)


def _token(row: RowLike) -> StoredToken:
    return StoredToken(
        id=row.session_id,
        account=AccountRef(row.account_id, row.speaker_handle),
        owner_id=row.owner_id,
        name=row.name,
        scopes=scopes_from_text(row.scopes),
        created_at=row.token_created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


_TOKEN_COLUMNS = (
    api_tokens.c.session_id,
    api_tokens.c.owner_id,
    api_tokens.c.name,
    api_tokens.c.scopes,
    sessions.c.account_id,
    sessions.c.created_at.label("token_created_at"),
    sessions.c.last_used_at,
    sessions.c.revoked_at,
    _speaker.c.handle.label("speaker_handle"),
)


def _tokens_query() -> Any:
    return (
        select(*_TOKEN_COLUMNS)
        .join(sessions, sessions.c.id == api_tokens.c.session_id)
        .join(_speaker, _speaker.c.id == sessions.c.account_id)
    )


class TokenStore(Store):
    async def add(self, *, session_id: str, owner_id: str, name: str, scopes: str) -> None:
        """After the session row (SessionStore.create with scope "token")."""
        await self.conn.execute(
            insert(api_tokens).values(
                session_id=session_id, owner_id=owner_id, name=name, scopes=scopes
            )
        )

    async def of_owner(self, owner_id: str, *, live_only: bool = True) -> list[StoredToken]:
        query = _tokens_query().where(api_tokens.c.owner_id == owner_id)
        if live_only:
            query = query.where(sessions.c.revoked_at.is_(None))
        return await self._all(query.order_by(sessions.c.created_at.desc()), _token)

    async def get(self, token_id: str) -> StoredToken | None:
        return await self._first(_tokens_query().where(api_tokens.c.session_id == token_id), _token)

    async def by_hash(self, token_hash: str) -> tuple[StoredToken, Account] | None:
        """The unrevoked token of this hash and the account it speaks as."""
        query = (
            select(*_TOKEN_COLUMNS, accounts)
            .select_from(api_tokens)
            .join(sessions, sessions.c.id == api_tokens.c.session_id)
            .join(_speaker, _speaker.c.id == sessions.c.account_id)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(
                sessions.c.token_hash == token_hash,
                sessions.c.scope == TOKEN_SESSION_SCOPE,
                sessions.c.revoked_at.is_(None),
            )
        )
        return await self._first(query, lambda row: (_token(row), _account(row)))
