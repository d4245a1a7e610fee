"""Notifications for an account (a space went live, an invitation...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from parley.core.accounts import NotificationKind
from parley.store.rows import Store
from parley.store.tables import notifications


class NotificationStore(Store):
    async def add_many(
        self,
        account_ids: Sequence[str],
        kind: NotificationKind,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        if account_ids:
            await self.conn.execute(
                insert(notifications),
                [
                    {"account_id": a, "kind": kind.value, "data": data, "created_at": now}
                    for a in account_ids
                ],
            )

    async def for_account(self, account_id: str, limit: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            select(notifications)
            .where(notifications.c.account_id == account_id)
            .order_by(notifications.c.id.desc())
            .limit(limit)
        )
        return [
            {"id": r.id, "kind": r.kind, "data": r.data, "created_at": r.created_at.isoformat()}
            for r in rows
        ]
