"""Moderation use cases: suspension and its enforcement everywhere, notices, appeals, reports,
the audit log. (Feature switches are features.py, the transparency report transparency.py.)

A suspension is committed first (account state, every session revoked, the action, the notice,
the audit entry, in one transaction), then announced on the bus so every node closes that
account's sockets and media at once, then the account is taken out of every space
(services/departures.py, which a deactivation goes through too). Each node's sweep repeats the
last two from the database, so a lost bus message or a crash half-way delays enforcement by one
sweep interval, never forever.
"""

from __future__ import annotations

import dataclasses
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus.messages import AccountSuspended
from parley.core import moderation as rules
from parley.core.accounts import Account, AccountState, Departure
from parley.core.actors import Actor
from parley.core.errors import Conflict, Forbidden, NotFound
from parley.core.moderation import AuditAction, AuditTarget
from parley.core.moderation_records import (
    Appeal,
    AuditLine,
    AuditQuery,
    ModeratedAccount,
    NoticeRead,
    QueuedAppeal,
    Suspended,
)
from parley.core.notifications import AppealDecided, NotificationKind
from parley.core.tokens import AccountRef
from parley.services import bots, restrictions
from parley.services.accounts import Caller
from parley.services.common import Clock, new_id
from parley.services.departures import Departures
from parley.services.limits import LimitService
from parley.services.removals import undo_removal
from parley.store.accounts import AccountStore, SessionStore
from parley.store.db import Database
from parley.store.moderation import AuditLog, ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.restrictions import RestrictionStore
from parley.store.tokens import BotStore


@dataclass(eq=False)
class ModerationService:
    db: Database
    # A suspension takes the account out of every live room, on every node, and out of its
    # spaces through the spaces' own decisions.
    departures: Departures
    # An overturned limit is lifted as the limits service lifts it.
    limits: LimitService
    _: KW_ONLY
    clock: Clock

    # --- suspension ------------------------------------------------------------------------

    async def suspend(
        self,
        actor: Actor,
        handle: str,
        rule: str,
        reason: str,
        until: datetime | None = None,
    ) -> Suspended:
        """Suspend an account, whoever it is."""
        now = self.clock()
        decided = rules.suspension(rule, reason, until, now)
        async with self.db.write() as conn:
            target, notice, suspended = await restrictions.impose(
                conn, actor, handle, AccountState.SUSPENDED, decided, now
            )
            await SessionStore(conn).revoke_all(target.id, now)
        orders = [AccountSuspended(account_id) for account_id in suspended]
        await self.departures.carry_out(Departure.SUSPENDED, suspended, orders)
        return Suspended(target, NoticeRead(notice))

    async def unsuspend(self, actor: Actor, handle: str, reason: str) -> Account:
        """Lift a suspension; the account, now active (or limited, where the suspension had
        come over a limit that still runs)."""
        now = self.clock()
        reason = rules.clean_reason(reason)
        async with self.db.write() as conn:
            target, now_state = await restrictions.lift_named(
                conn, actor, handle, AccountState.SUSPENDED, reason, now
            )
        return dataclasses.replace(target, state=now_state)

    async def lift_due(self) -> None:
        """Suspensions whose time ran out end by themselves (the sweeper calls this)."""
        await restrictions.lift_due(self.db, AccountState.SUSPENDED, self.clock())

    async def sweep(self) -> None:
        await self.lift_due()

    # --- notices and appeals -----------------------------------------------------------------

    async def notices(self, caller: Caller) -> list[NoticeRead]:
        """The caller's notices, and their bots' (each naming its bot): a bot has no one else
        to read them or appeal."""
        async with self.db.read() as conn:
            owned = await BotStore(conn).of_owner(caller.account.id)
            found = await ModerationStore(conn).notices_of(
                [caller.account.id, *(bot.id for bot in owned)]
            )
        named = {bot.id: AccountRef(bot.id, bot.handle) for bot in owned}
        return [dataclasses.replace(n, bot=named.get(n.notice.account_id)) for n in found]

    async def appeal(self, account: Account, notice_id: str, text: str) -> Appeal:
        """Appeal the action behind a notice, once: one's own, or one's bot's. A suspended
        account may appeal too: it signs in to read its notice, and this is the one thing it
        can do. The appeal is the notice's account's (whose restriction an overturn lifts)."""
        text = rules.clean_appeal(text)
        now = self.clock()
        async with self.db.write() as conn:
            store = ModerationStore(conn)
            notice = await store.notice(notice_id)
            if notice is None or not await _answers_for(conn, account, notice.account_id):
                raise NotFound("notice_not_found", "No such notice of yours")
            appeal = Appeal(
                id=new_id(),
                notice_id=notice_id,
                account_id=notice.account_id,
                text=text,
                created_at=now,
            )
            if not await store.add_appeal(appeal):
                raise Conflict("already_appealed", "Each action can be appealed once")
            await AuditLog(conn).append(
                at=now,
                actor_id=account.id,
                action=AuditAction.APPEAL,
                target_type=AuditTarget.NOTICE,
                target_id=notice_id,
                rule=notice.rule,
            )
        return appeal

    async def appeals(self, reader: Actor, *, open_only: bool, limit: int) -> list[QueuedAppeal]:
        """Oldest first, each with what it answers and who took that action."""
        rules.require_moderator(reader)
        async with self.db.read() as conn:
            store = ModerationStore(conn)
            found = await store.appeals(open_only=open_only, limit=limit)
            appealed = await store.appealed([a.notice_id for a in found])
            ids = [a.account_id for a in found]
            actors = [a.actor_id for a in appealed.values() if a.actor_id is not None]
            handles = await account_handles(conn, ids + actors)
            owners = await BotStore(conn).owners_of(ids)

        def queued(appeal: Appeal) -> QueuedAppeal:
            owner, answered = owners.get(appeal.account_id), appealed[appeal.notice_id]
            involved = {appeal.account_id, owner.id if owner else None, answered.actor_id}
            return QueuedAppeal(
                appeal,
                handles.get(appeal.account_id),
                answered,
                owner,
                actor_handle=handles.get(answered.actor_id or ""),
                involves_you=reader.account_id is not None and reader.account_id in involved,
            )

        return [queued(a) for a in found]

    async def decide_appeal(
        self, actor: Actor, appeal_id: str, decision: str, reason: str
    ) -> Appeal:
        """By a moderator who had no part in it (neither its account, its bot's owner, nor
        the moderator who took the action: an appeal is a second look), or by the operator."""
        rules.require_acting_moderator(actor)
        verdict = rules.AppealDecision(decision)
        reason = rules.clean_reason(reason)
        now = self.clock()
        lifted: list[str] = []  # every node reads the account anew
        async with self.db.write() as conn:
            store = ModerationStore(conn)
            appeal = await store.appeal(appeal_id)
            if appeal is None:
                raise NotFound("appeal_not_found", "No such appeal")
            answering = await bots.answering_for(conn, appeal.account_id)
            if actor.account_id in answering.account_ids:
                raise Forbidden("cannot_decide_own_appeal", "Another moderator must decide")
            appealed = (await store.appealed([appeal.notice_id]))[appeal.notice_id]
            if actor.account_id is not None and appealed.actor_id == actor.account_id:
                raise Forbidden(
                    "cannot_review_own_action",
                    "You took this action: another moderator decides its appeal",
                )
            decided = await store.decide_appeal(
                appeal_id, decision=verdict, reason=reason, by=actor.account_id, at=now
            )
            if not decided:
                raise Conflict("already_decided", "This appeal was already decided")
            notice = appealed.notice
            await AuditLog(conn).append(
                at=now,
                actor_id=actor.account_id,
                action=AuditAction.DECIDE_APPEAL,
                target_type=AuditTarget.APPEAL,
                target_id=appeal_id,
                rule=notice.rule,
                reason=reason,
                after={"decision": verdict.value},
            )
            said = AppealDecided(appeal_id, verdict, reason, bot=answering.bot)
            await NotificationStore(conn).add_many(
                answering.account_ids, NotificationKind.APPEAL_DECIDED, said, now
            )
            target = await RestrictionStore(conn).locked(account_id=appeal.account_id)
            if verdict is rules.AppealDecision.OVERTURNED:
                if target is not None and await restrictions.overturn(
                    conn, target, notice, actor_id=actor.account_id, reason=reason, now=now
                ):
                    lifted.append(target.id)
                await undo_removal(conn, notice, actor_id=actor.account_id, reason=reason, now=now)
            decided_appeal = await store.appeal(appeal_id)  # as stored, decision and all
        await self.limits.changed(lifted)
        assert decided_appeal is not None
        return decided_appeal

    # --- reading -------------------------------------------------------------------------------

    async def find_accounts(self, caller: Caller, text: str, limit: int) -> list[ModeratedAccount]:
        rules.require_moderator(caller)
        async with self.db.read() as conn:
            found = await AccountStore(conn).search(text, limit)
            ids = [a.id for a in found]
            restricted = RestrictionStore(conn)
            held = await restricted.held_limits(ids)
            ends = await restricted.ends(ids)
            owners = await BotStore(conn).owners_of(ids)
        return [
            ModeratedAccount(a, held.get(a.id), owners.get(a.id), ends.get(a.id)) for a in found
        ]

    async def audit(self, caller: Caller, wanted: AuditQuery) -> list[AuditLine]:
        rules.require_moderator(caller)
        async with self.db.read() as conn:
            entries = await AuditLog(conn).entries(wanted)
            ids = [e.actor_id for e in entries if e.actor_id]
            ids += [e.target_id for e in entries if e.target_type == AuditTarget.ACCOUNT]
            handles = await account_handles(conn, ids)
        return [
            AuditLine(
                e,
                actor_handle=handles.get(e.actor_id) if e.actor_id else None,
                target_handle=handles.get(e.target_id)
                if e.target_type == AuditTarget.ACCOUNT
                else None,
            )
            for e in entries
        ]


async def account_handles(conn: AsyncConnection, account_ids: list[str]) -> dict[str, str]:
    """Handles for account ids, so moderators read names rather than ids."""
    found = await AccountStore(conn).by_ids(sorted(set(account_ids)))
    return {account_id: account.handle for account_id, account in found.items()}


async def _answers_for(conn: AsyncConnection, account: Account, account_id: str) -> bool:
    """Whether `account` answers for `account_id`'s moderation: it is it, or its bot's owner."""
    return account.id in (await bots.answering_for(conn, account_id)).account_ids
