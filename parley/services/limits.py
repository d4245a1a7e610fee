"""Limiting an account: the step below a suspension. A moderator limits an account under a rule
and with a reason, for a time or until lifted: it keeps its sessions and may sign in, listen,
read, follow, report and appeal, but not post, host or start a space, come on stage, react or
edit its profile (403 `account_limited`). Within a second of the limit every node forgets its
cached sessions (the bus), and it comes off every stage through the spaces' own decisions (a
speaker or cohost to the audience, a host's space to its longest-serving cohost or to its end);
each node's sweep repeats that from the database, so a lost message delays it by one sweep.
Its active bots are limited with it. Told in a notice, appealable, audited and counted in the
transparency report, whoever the account is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.base import Bus
from parley.bus.messages import AccountChanged
from parley.core import moderation as rules
from parley.core.accounts import Account, AccountState
from parley.core.actors import Actor
from parley.core.moderation import AuditAction
from parley.core.moderation_records import Limited, NoticeRead
from parley.core.notifications import LimitSet, NotificationKind
from parley.core.session_cache import SessionCache
from parley.core.spaces import stage
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.services import restrictions
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.store.db import Database
from parley.store.moderation import AuditLog
from parley.store.notifications import NotificationStore
from parley.store.withdrawals import WithdrawalStore


@dataclass(eq=False)
class LimitService:
    db: Database
    bus: Bus
    decisions: SpaceDecisions
    # The node's cache of authenticated sessions: a limit (or its end) holds at once.
    session_cache: SessionCache
    _: KW_ONLY
    clock: Clock
    # The newest audit entry this node's sweep has read: limits set or lifted after it, by
    # another process without a shared bus (the command line), empty its cache too.
    _audit_seen: int | None = field(default=None, init=False)

    async def start(self) -> None:
        """Read from here on: a limit the command line sets before the first sweep is one the
        node's sessions and rooms may already have missed (at the first sweep, it was taken
        for old)."""
        async with self.db.read() as conn:
            self._audit_seen = await AuditLog(conn).newest_id()

    async def limit(
        self, actor: Actor, handle: str, rule: str, reason: str, until: datetime | None = None
    ) -> Limited:
        """Limit an account, whoever it is; the notice it gets."""
        now = self.clock()
        decided = rules.suspension(rule, reason, until, now)
        async with self.db.write() as conn:
            target, notice, limited = await restrictions.impose(
                conn, actor, handle, AccountState.LIMITED, decided, now
            )
            told = LimitSet(notice.id, decided.rule, decided.until)
            await NotificationStore(conn).add_many([target.id], NotificationKind.LIMITED, told, now)
        await self.changed(limited)
        for account_id in limited:
            await self._off_stage(account_id)
        return Limited(replace(target, state=AccountState.LIMITED), NoticeRead(notice))

    async def unlimit(self, actor: Actor, handle: str, reason: str) -> Account:
        """Lift a limit; the account, now active."""
        now = self.clock()
        reason = rules.clean_reason(reason)
        async with self.db.write() as conn:
            target, now_state = await restrictions.lift_named(
                conn, actor, handle, AccountState.LIMITED, reason, now
            )
        await self.changed([target.id])
        return replace(target, state=now_state)

    async def sweep(self) -> list[str]:
        """Limits whose time ran out end by themselves; a limited account still on a stage
        (a lost message, a node that crashed half-way) comes off it. Returns the accounts
        whose limit another process set or lifted since the last sweep: the node forgets
        their sessions and tells their open rooms, as it does for the bus's `AccountChanged`."""
        lifted = await restrictions.lift_due(self.db, AccountState.LIMITED, self.clock())
        await self.changed(lifted)
        seen = self._audit_seen

        async def read(conn: AsyncConnection) -> tuple[int, list[str], list[tuple[str, str]]]:
            audit = AuditLog(conn)
            newest, changed = (
                (await audit.newest_id(), [])
                if seen is None
                else await audit.targets_after(seen, (AuditAction.LIMIT, AuditAction.UNLIMIT))
            )
            return newest, changed, await WithdrawalStore(conn).limited_on_stage()

        self._audit_seen, changed, on_stage = await self.db.read_whole(read)
        for space_id, account_id in on_stage:
            await self._decide_off_stage(space_id, account_id)
        return changed

    async def changed(self, account_ids: Sequence[str]) -> None:
        """What these accounts may do changed: this node forgets their cached sessions before it
        answers, the others as the bus tells them."""
        self.session_cache.forget_accounts(set(account_ids))
        for account_id in account_ids:
            await messages.publish(self.bus, AccountChanged(account_id))

    async def _off_stage(self, account_id: str) -> None:
        async with self.db.read() as conn:
            space_ids = await WithdrawalStore(conn).spaces_to_leave(account_id)
        for space_id in space_ids:
            await self._decide_off_stage(space_id, account_id)

    async def _decide_off_stage(self, space_id: str, account_id: str) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return stage.restrict(state, account_id, self.clock())

        await self.decisions.decide(space_id, [account_id], decide)
