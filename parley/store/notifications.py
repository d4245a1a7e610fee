"""Notifications for an account (a space went live, an invitation...)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update

from parley.core.notifications import (
    CARRIES,
    Notification,
    NotificationData,
    NotificationKind,
    notification_data,
    payload_of,
)
from parley.store.prebuilt import RowLike
from parley.store.rows import Store, insert_ignoring_duplicate
from parley.store.tables import notification_marks, notifications

log = logging.getLogger(__name__)


class NotificationStore(Store):
    async def add_many(
        self,
        account_ids: Sequence[str],
        kind: NotificationKind,
        data: NotificationData,
        now: datetime,
    ) -> None:
        if type(data) not in CARRIES[kind]:
            raise TypeError(f"{kind.value} does not carry {type(data).__name__}")
        if account_ids:
            stored = notification_data(data)
            await self.conn.execute(
                insert(notifications),
                [
                    {"account_id": a, "kind": kind.value, "data": stored, "created_at": now}
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
        found = await self._all(query, _notification)
        return [n for n in found if n is not None]

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


def _notification(row: RowLike) -> Notification | None:
    """The notification a row holds; None, and a warning, for one this version cannot read (a
    kind it does not know, or data of another shape): it stays stored, unshown."""
    try:
        kind = NotificationKind(row.kind)
        return Notification(row.id, kind, payload_of(kind, row.data), row.created_at)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("notification %s (%s) cannot be read: %r", row.id, row.kind, exc)
        return None
