"""What an account is told (a space it follows went live, its appeal was decided, its
suspension lifted), and how far it has read: one mark per account, so every device shows the
same unread count. Notifications are written by the services whose decisions they tell of, in
the same transaction (services/decisions.py, services/moderation.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.notifications import UNREAD_COUNTED_MAX, Inbox, as_shown
from parley.core.spaces.exposure import withheld
from parley.core.spaces.model import Space
from parley.services.accounts import Caller
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.notifications import NotificationStore
from parley.store.spaces import SpaceStore


@dataclass(eq=False)
class NotificationService:
    db: Database

    async def inbox(self, caller: Caller, limit: int) -> Inbox:
        async with self.db.read() as conn:
            store = NotificationStore(conn)
            found = await store.for_account(caller.account.id, limit)
            seen_id = await store.seen_id(caller.account.id)
            spaces = await _shown(conn, {n.space_id for n in found if n.space_id})
        # Each space as it may be shown now: the rule the space's own page follows.
        return Inbox(
            tuple(as_shown(n, spaces.get(n.space_id)) if n.space_id else n for n in found),
            seen_id,
        )

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


async def _shown(conn: AsyncConnection, space_ids: Collection[str]) -> dict[str, Space]:
    """Of these spaces, those that may still be shown, by id: two reads for a whole page."""
    spaces = await SpaceStore(conn).by_ids(space_ids)
    hosts = await AccountStore(conn).by_ids(sorted({s.host_id for s in spaces.values()}))
    return {id: s for id, s in spaces.items() if not withheld(s, hosts.get(s.host_id))}
