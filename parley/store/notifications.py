"""Notifications for an account (a space went live, an invitation...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from parley.core.notifications import Details, Notification, NotificationKind
from parley.store.rows import Store, insert_ignoring_duplicate, record
from parley.store.tables import notification_marks, notifications


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

    async def newest_id(self, account_id: str) -> int:
        query = select(func.max(notifications.c.id)).where(notifications.c.account_id == account_id)
        return int((await self.conn.execute(query)).scalar_one() or 0)

    async def unread_count(self, account_id: str, seen_id: int, at_most: int) -> int:
        """How many are newer than `seen_id`, counting no further than `at_most` (the index on
        account and id is walked that far, never through a long backlog)."""
        newer = (
            select(notifications.c.id)
            .where(notifications.c.account_id == account_id, notifications.c.id > seen_id)
            .limit(at_most)
            .subquery()
        )
        return int((await self.conn.execute(select(func.count()).select_from(newer))).scalar_one())

    # --- what has been read ---------------------------------------------------------------------

    async def seen_id(self, account_id: str) -> int:
        query = select(notification_marks.c.seen_id).where(
            notification_marks.c.account_id == account_id
        )
        return int((await self.conn.execute(query)).scalar_one_or_none() or 0)

    async def mark_seen(self, account_id: str, seen_id: int) -> None:
        """Seen up to `seen_id`; never back (two devices marking at once keep the further)."""
        values = {"account_id": account_id, "seen_id": seen_id}
        if not await insert_ignoring_duplicate(self.conn, notification_marks, values):
            await self.conn.execute(
                update(notification_marks)
                .where(
                    notification_marks.c.account_id == account_id,
                    notification_marks.c.seen_id < seen_id,
                )
                .values(seen_id=seen_id)
            )
