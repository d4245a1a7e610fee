"""What a suspension and a limit share: imposed, the account and its active bots are restricted,
the account given a notice it may appeal; ended (by a moderator, by their own end, by an
overturned appeal), they are active again and the account is told. Each is an action of its own
in the audit log and the transparency report."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import Account, AccountState
from parley.core.actors import Actor
from parley.core.errors import NotFound
from parley.core.moderation import (
    IMPOSED_BY,
    MAY_IMPOSE,
    MAY_LIFT,
    RESTRICTIONS,
    Suspension,
    behind_current,
)
from parley.core.moderation_records import ActionTaken, Notice
from parley.core.notifications import Lifted, NotificationKind, StillLimited
from parley.services import bots, held_limits
from parley.services.common import new_id
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.restrictions import RestrictionStore
from parley.store.tokens import BotStore

# What an account is told when its restriction is lifted.
_LIFTED_TOLD = {
    AccountState.SUSPENDED: NotificationKind.UNSUSPENDED,
    AccountState.LIMITED: NotificationKind.UNLIMITED,
}


async def _named(conn: AsyncConnection, handle: str) -> Account:
    """The account a restriction is imposed on or lifted from, in any state, locked for the
    caller's transaction: 404 if none."""
    account = await RestrictionStore(conn).locked(handle=handle)
    if account is None:
        raise NotFound("account_not_found", f"No account @{handle}")
    return account


async def impose(
    conn: AsyncConnection,
    actor: Actor,
    handle: str,
    state: AccountState,
    decided: Suspension,
    now: datetime,
) -> tuple[Account, Notice, list[str]]:
    """In the caller's transaction: the account `handle` names is suspended or limited
    (`state`), if `actor` may, under the rule and until the end `decided`; the account as it
    was, its notice, and the ids restricted (its bots' too)."""
    target = await _named(conn, handle)
    MAY_IMPOSE[state](actor, target)
    taken = ActionTaken.of(
        new_id(),
        RESTRICTIONS[state][0],
        target.id,
        actor_id=actor.account_id,
        rule=decided.rule,
        reason=decided.reason,
        at=now,
        until=decided.until,
    )
    # Only a suspension comes over a limit (core.moderation.may_limit).
    held = await held_limits.hold(conn, target)
    await AccountStore(conn).set_state(target.id, state, decided.until, by=taken.id)
    # A bot restricted with its owner is restricted on its own now: its owner's end is not its.
    await BotStore(conn).set_with_owner(target.id, False)
    moderation = ModerationStore(conn)
    until = decided.until.isoformat() if decided.until else None
    after = {"state": state.value, "until": until} | ({"held": target.state.value} if held else {})
    await moderation.take_action(taken, before={"state": target.state.value}, after=after)
    notice = Notice.of(new_id(), taken)
    await moderation.add_notice(notice)
    await bots.tell_owner(conn, target, state, notice, now)
    bot_ids = await bots.restrict_with_owner(
        conn,
        target,
        state,
        actor_id=actor.account_id,
        rule=decided.rule,
        reason=decided.reason,
        now=now,
    )
    return target, notice, [target.id, *bot_ids]


async def lift_named(
    conn: AsyncConnection,
    actor: Actor,
    handle: str,
    state: AccountState,
    reason: str,
    now: datetime,
) -> tuple[Account, AccountState]:
    """In the caller's transaction: a moderator lifts the suspension or limit (`state`) of the
    account `handle` names; the account as it was, and what it is now."""
    target = await _named(conn, handle)
    MAY_LIFT[state](actor, target)
    await bots.refuse_lift(conn, actor.account_id, target)
    rule = RESTRICTIONS[state][1].value
    now_state = await lift(
        conn, target, actor_id=actor.account_id, rule=rule, reason=reason, now=now
    )
    return target, now_state


async def overturn(
    conn: AsyncConnection,
    target: Account,
    notice: Notice,
    *,
    actor_id: str | None,
    reason: str,
    now: datetime,
) -> bool:
    """In the caller's transaction: an appeal overturned the action `notice` tells of. The
    suspension or limit it imposed ends if it still holds, never a later one of its kind; a limit
    waiting under a suspension ends there. True when the account's state changed."""
    if (
        target.state is IMPOSED_BY.get(notice.action)
        and behind_current(notice.action_id, await RestrictionStore(conn).restricted_by(target.id))
        # Held with its owner, a bot holds no restriction of its own that a notice could name.
        and not await BotStore(conn).is_with_owner(target.id)
    ):
        await lift(conn, target, actor_id=actor_id, rule="appeal", reason=reason, now=now)
        return True
    await held_limits.overturn(conn, target, notice, actor_id=actor_id, reason=reason, now=now)
    return False


async def lift_due(db: Database, state: AccountState, now: datetime) -> list[str]:
    """Restrictions of `state` whose time ran out end by themselves (the sweep calls this),
    but a bot's while its owner is restricted alike; the ids lifted."""
    due = await db.read_whole(lambda conn: AccountStore(conn).restrictions_due(state, now))
    lifted = []
    for account_id in due:
        async with db.write() as conn:
            target = await RestrictionStore(conn).locked(account_id=account_id)
            if target is None or target.state is not state:
                continue  # lifted meanwhile
            if await bots.hold_for_owner(conn, target):
                continue
            what = "suspension" if state is AccountState.SUSPENDED else "limit"
            reason = f"The {what} ended"
            await lift(conn, target, actor_id=None, rule="expired", reason=reason, now=now)
            lifted.append(account_id)
    return lifted


async def lift(
    conn: AsyncConnection,
    target: Account,
    *,
    actor_id: str | None,
    rule: str,
    reason: str,
    now: datetime,
) -> AccountState:
    """In the caller's transaction: `target`'s suspension or limit ends; what it is now: active,
    or limited again where the suspension had come over a limit still running. A bot whose owner
    is restricted falls back to its owner's restriction, not to active: limited with them, or,
    when an appeal overturned its own restriction under its owner's alike (a moderator may not
    lift it then: bots.refuse_lift), still so with them."""
    action, told = RESTRICTIONS[target.state][1], _LIFTED_TOLD[target.state]
    owner = await bots.restricted_owner(conn, target)
    told_data: Lifted | StillLimited | None = Lifted(reason)
    after: dict[str, str] = {}
    if owner is not None and owner.state is target.state:
        # Its own limit, if one waits under its suspension, keeps waiting for the owner's end.
        now_state, told_data = target.state, None  # it is told of the appeal's decision
        await bots.keep_with_owner(conn, target, now_state)
        after = {"with_owner": owner.id}
    else:
        held = None
        if target.state is AccountState.SUSPENDED:
            held = await held_limits.resume(conn, target, now)
        if held is not None:
            now_state = AccountState.LIMITED
            await AccountStore(conn).set_state(target.id, now_state, held.until, by=held.action_id)
            told_data = StillLimited(reason, still_limited=True, until=held.until)
        elif owner is not None and owner.state is AccountState.LIMITED:
            now_state = AccountState.LIMITED
            await bots.keep_with_owner(conn, target, now_state)
            told_data = StillLimited(reason, still_limited=True, until=None)
            after = {"with_owner": owner.id}
        else:
            now_state = AccountState.ACTIVE
            await AccountStore(conn).set_state(target.id, now_state)
    await ModerationStore(conn).take_action(
        ActionTaken.of(
            new_id(), action, target.id, actor_id=actor_id, rule=rule, reason=reason, at=now
        ),
        before={"state": target.state.value},
        after={"state": now_state.value} | after,
    )
    if told_data is not None:
        answering = await bots.answering_for(conn, target.id)  # a bot's owner too, naming it
        told_data = dataclasses.replace(told_data, bot=answering.bot)
        await NotificationStore(conn).add_many(answering.account_ids, told, told_data, now)
    await bots.lift_with_owner(conn, target, now_state, actor_id=actor_id, now=now)
    return now_state
