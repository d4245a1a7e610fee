"""An account whose suspension or limit is changing, which action that restriction is, and the
limit a suspension came over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select

from parley.core.accounts import Account, handle_key
from parley.core.moderation import HeldLimit
from parley.store.accounts import account_record
from parley.store.among import among
from parley.store.rows import Store, record
from parley.store.tables import accounts, held_limits
from parley.store.types import storable_key


class RestrictionStore(Store):
    async def locked(
        self, *, handle: str | None = None, account_id: str | None = None
    ) -> Account | None:
        """The account (by handle or id) as it is now, its row locked until the transaction
        ends: one restriction of an account changes at a time, so two moderators (or two nodes'
        sweeps) acting at once see each other's change rather than both undoing the state
        they read. PostgreSQL; SQLite has one writer at a time anyway."""
        key = handle if handle is not None else account_id
        if key is None or not storable_key(key):
            return None
        which: ColumnElement[bool] = (
            accounts.c.handle_key == handle_key(handle)
            if handle is not None
            else accounts.c.id == account_id
        )
        return await self._first(select(accounts).where(which).with_for_update(), account_record)

    async def restricted_by(self, account_id: str) -> str | None:
        """The moderation action behind the account's current suspension or limit."""
        query = select(accounts.c.restricted_by).where(accounts.c.id == account_id)
        by: str | None = (await self.conn.execute(query)).scalar()
        return by

    async def hold_limit(self, account_id: str) -> None:
        """The account's limit, as it stands, waits under the suspension coming over it."""
        limit = select(accounts.c.id, accounts.c.restricted_by, accounts.c.suspended_until).where(
            accounts.c.id == account_id
        )
        await self.conn.execute(
            insert(held_limits).from_select(["account_id", "action_id", "until"], limit)
        )

    async def held_limit(self, account_id: str) -> HeldLimit | None:
        query = select(held_limits.c.action_id, held_limits.c.until).where(
            held_limits.c.account_id == account_id
        )
        return await self._first(query, lambda row: record(HeldLimit, row))

    async def held_limits(self, account_ids: Sequence[str]) -> dict[str, HeldLimit]:
        """The limits waiting under these accounts' suspensions, by account."""
        wanted = [a for a in account_ids if storable_key(a)]
        if not wanted:
            return {}
        query = select(held_limits).where(among(held_limits.c.account_id, wanted))
        rows = await self.conn.execute(query)
        return {row.account_id: record(HeldLimit, row) for row in rows}

    async def ends(self, account_ids: Sequence[str]) -> dict[str, datetime]:
        """When these accounts' suspensions or limits end on their own, by account (those with
        no end, or no restriction, are left out)."""
        wanted = [a for a in account_ids if storable_key(a)]
        if not wanted:
            return {}
        query = select(accounts.c.id, accounts.c.suspended_until).where(
            among(accounts.c.id, wanted), accounts.c.suspended_until.is_not(None)
        )
        return {row.id: row.suspended_until for row in await self.conn.execute(query)}

    async def release_held_limit(self, account_id: str) -> None:
        await self.conn.execute(delete(held_limits).where(held_limits.c.account_id == account_id))
