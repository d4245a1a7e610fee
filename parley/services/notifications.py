"""What an account is told (a space it follows went live, its appeal was decided, its
suspension lifted), and how far it has read: one mark per account, so every device shows the
same unread count. Notifications are written by the services whose decisions they tell of, in
the same transaction (services/decisions.py, services/moderation.py)."""

from __future__ import annotations

from dataclasses import dataclass

from parley.core.notifications import UNREAD_COUNTED_MAX, Inbox
from parley.services.accounts import Caller
from parley.store.db import Database
from parley.store.notifications import NotificationStore


@dataclass(eq=False)
class NotificationService:
    db: Database

    async def inbox(self, caller: Caller, limit: int) -> Inbox:
        async with self.db.read() as conn:
            store = NotificationStore(conn)
            found = await store.for_account(caller.account.id, limit)
            seen_id = await store.seen_id(caller.account.id)
        return Inbox(tuple(found), seen_id)

    async def unread(self, caller: Caller) -> int:
        """How many the account has not seen, up to UNREAD_COUNTED_MAX: what a client polls."""
        async with self.db.read() as conn:
            store = NotificationStore(conn)
            seen_id = await store.seen_id(caller.account.id)
            return await store.unread_count(caller.account.id, seen_id, UNREAD_COUNTED_MAX)

    async def mark_seen(self, caller: Caller, up_to: int) -> None:
        """Seen up to notification `up_to`, on every device. An id beyond the newest counts as
        the newest: notifications still to come stay unread, whatever a client sends."""
        async with self.db.write() as conn:
            store = NotificationStore(conn)
            newest = await store.newest_id(caller.account.id)
            await store.mark_seen(caller.account.id, min(up_to, newest))
