"""Which action an account's suspension or limit is, and the limit a suspension came over."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from parley.core.moderation import HeldLimit
from parley.store.rows import Store, record
from parley.store.tables import accounts, held_limits


class RestrictionStore(Store):
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

    async def release_held_limit(self, account_id: str) -> None:
        await self.conn.execute(delete(held_limits).where(held_limits.c.account_id == account_id))
