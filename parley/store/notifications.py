"""Notifications for an account (a space went live, an invitation...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select

from parley.core.notifications import Details, Notification, NotificationKind
from parley.store.rows import Store, record
from parley.store.tables import notifications


class NotificationStore(Store):
    async def add_many(
        self, account_ids: Sequence[str], kind: NotificationKind, data: Details, now: datetime
    ) -> None:
        if account_ids:
            await self.conn.execute(
                insert(notifications),
                [
                    {"account_id": a, "kind": kind.value, "data": dict(data), "created_at": now}
                    for a in account_ids
                ],
            )

    async def for_account(self, account_id: str, limit: int) -> list[Notification]:
        query = (
            select(notifications)
            .where(notifications.c.account_id == account_id)
            .order_by(notifications.c.id.desc())
            .limit(limit)
        )
        return await self._all(query, lambda row: record(Notification, row))
