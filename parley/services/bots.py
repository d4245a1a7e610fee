"""Automated accounts: a person registers bots they answer for; each is an account of its own
(its own handle, posts, suspensions), labelled everywhere with its owner's name.

A bot has no password: it acts only through the API tokens its owner makes for it
(services.tokens). Suspending the owner suspends every active bot of theirs in the same
transaction, marked as suspended with the owner; lifting the owner's suspension (by a moderator,
by its time running out, or on appeal) lifts those and only those. A bot suspended on its own
stays suspended whatever happens to its owner, and is not lifted while its owner is suspended.
A person deleting their account deletes their bots with it (services/deactivation.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus.messages import Order, SessionsEnded
from parley.core import accounts as account_rules
from parley.core.accounts import Account, AccountState, Departure
from parley.core.errors import Conflict, Forbidden, NotFound
from parley.core.moderation import RESTRICTIONS, ModerationAction
from parley.core.moderation_records import ActionTaken, Notice
from parley.core.notifications import BotRestricted, NotificationKind
from parley.core.sessions import SessionEnd
from parley.core.tokens import MAX_BOTS_PER_OWNER, AccountRef
from parley.services import held_limits
from parley.services.accounts import Caller, add_account
from parley.services.common import Clock, new_id
from parley.services.departures import Departures
from parley.store.accounts import AccountStore, SessionStore
from parley.store.db import Database
from parley.store.held_posts import HeldPostStore
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.tokens import BotStore

# Stored in place of a password hash: no password verifies against it, so nobody signs in as a
# bot; it speaks only through its tokens.
NO_PASSWORD = "!automated"


@dataclass(eq=False)
class BotService:
    db: Database
    _: KW_ONLY
    # A deleted bot's tokens end on every node, and it leaves every space it is in.
    departures: Departures
    guard_links: Callable[[str], Awaitable[None]]
    instance_name: str
    clock: Clock

    async def create(self, caller: Caller, handle: str, display_name: str) -> Account:
        """A bot owned by the caller, under the handle rules every sign-up follows."""
        account_rules.check_handle(handle)
        account_rules.check_handle_unreserved(handle, self.instance_name)
        name = account_rules.clean_display_name(display_name)
        await self.guard_links(name)
        now = self.clock()
        async with self.db.write() as conn:
            bots = BotStore(conn)
            if await bots.owner_account(caller.account.id) is not None:
                raise Forbidden("bot_cannot_own_bots", "A bot cannot register bots")
            if await bots.count_of(caller.account.id) >= MAX_BOTS_PER_OWNER:
                raise Conflict("too_many_bots", f"At most {MAX_BOTS_PER_OWNER} bots per person")
            bot = await add_account(conn, handle, name, NO_PASSWORD, is_admin=False, now=now)
            await bots.add(account_id=bot.id, owner_id=caller.account.id, now=now)
        return bot

    async def delete(self, caller: Caller, handle: str) -> None:
        """The owner deletes a bot: its tokens are revoked at once on every node (their sockets
        and media close), it leaves every space it is in, its held posts are dropped and its
        posts no longer shown. Its account stays behind, deactivated, so its handle is never
        reused and its moderation history is kept."""
        async with self.db.write() as conn:
            bots = BotStore(conn)
            bot = await AccountStore(conn).by_handle(handle)
            owner = await bots.owner_account(bot.id) if bot else None
            if (
                bot is None
                or owner is None
                or owner.id != caller.account.id
                or bot.state is AccountState.DEACTIVATED
            ):
                raise NotFound("bot_not_found", f"You have no bot @{handle}")
            ended = {bot.id: await retire(conn, bot.id, self.clock())}
        orders = deactivation_orders(ended)
        await self.departures.carry_out(Departure.DEACTIVATED, [bot.id], orders)

    async def of(self, caller: Caller) -> list[Account]:
        async with self.db.read() as conn:
            return await BotStore(conn).of_owner(caller.account.id)

    async def owners_of(self, account_ids: Sequence[str]) -> dict[str, AccountRef]:
        """The bots among these accounts, with their owners: what the "automated" label names."""
        async with self.db.read() as conn:
            return await BotStore(conn).owners_of(account_ids)


# --- deactivation: a bot deleted by its owner, or with its owner's account ---------------------


async def retire(conn: AsyncConnection, account_id: str, now: datetime) -> list[str]:
    """Deactivate an account for good in the caller's transaction: a bot its owner deletes, or
    a person deleting their own account. Its sessions and tokens are revoked (the ids returned),
    its held posts dropped."""
    await AccountStore(conn).set_state(account_id, AccountState.DEACTIVATED)
    await HeldPostStore(conn).drop_all_of(account_id)
    return await SessionStore(conn).revoke_all(account_id, now)


async def retire_with_owner(
    conn: AsyncConnection, owner: Account, now: datetime
) -> dict[str, list[str]]:
    """A person deletes their account: every bot of theirs goes with it. The sessions revoked,
    by bot."""
    return {
        bot.id: await retire(conn, bot.id, now)
        for bot in await BotStore(conn).of_owner(owner.id)
        if bot.state is not AccountState.DEACTIVATED
    }


def deactivation_orders(ended: Mapping[str, Sequence[str]]) -> list[Order]:
    """What tells every node to close the deactivated accounts' sockets and media: their
    sessions ended, by account."""
    return [
        SessionsEnded(account_id, tuple(session_ids), SessionEnd.DEACTIVATED)
        for account_id, session_ids in ended.items()
        if session_ids
    ]


# --- the cascade: called by services.restrictions inside its caller's transaction -------------


async def restrict_with_owner(
    conn: AsyncConnection,
    owner: Account,
    state: AccountState,
    *,
    actor_id: str | None,
    rule: str,
    reason: str,
    now: datetime,
) -> list[str]:
    """Suspend or limit the owner's active bots with them (a suspension takes the limited ones
    too, a limit of their own waiting under it as under the owner's); the ids. Each is an action
    of its own in the log and the audit, under the owner's rule; a suspension revokes the bots'
    tokens, as the owner's sessions."""
    store = BotStore(conn)
    with_owner = {bot.id for bot in await store.restricted_with(owner.id)}
    action = RESTRICTIONS[state][0]
    restricted = []
    for bot in await store.of_owner(owner.id):
        if not _comes_over(state, bot.state):
            continue  # as restricted, more, or gone: it keeps what it has
        if bot.id not in with_owner:
            await held_limits.hold(conn, bot)
        await AccountStore(conn).set_state(bot.id, state)
        if state is AccountState.SUSPENDED:
            await SessionStore(conn).revoke_all(bot.id, now)  # its tokens with them
        await store.set_with_owner(bot.id, True)
        await _record(conn, action, bot, owner, actor_id, rule, reason, now, to=state)
        restricted.append(bot.id)
    return restricted


async def lift_with_owner(
    conn: AsyncConnection,
    owner: Account,
    owner_now: AccountState,
    *,
    actor_id: str | None,
    now: datetime,
) -> None:
    """The owner's suspension or limit ended, leaving them `owner_now`: the bots restricted with
    them follow (limited with them still, if a limit of the owner's held again), or take up a
    limit of their own that waited under the suspension. A suspended bot's tokens do not come
    back: those were revoked, and the owner makes new ones."""
    bots = BotStore(conn)
    for bot in await bots.restricted_with(owner.id):
        held = None
        if bot.state is AccountState.SUSPENDED:
            held = await held_limits.resume(conn, bot, now)
        if held is not None:
            to, with_owner = AccountState.LIMITED, False
            await AccountStore(conn).set_state(bot.id, to, held.until, by=held.action_id)
        elif owner_now is AccountState.LIMITED:
            to, with_owner = AccountState.LIMITED, True
            await AccountStore(conn).set_state(bot.id, to)
        else:
            to, with_owner = AccountState.ACTIVE, False
            await AccountStore(conn).set_state(bot.id, to)
        await bots.set_with_owner(bot.id, with_owner)
        what = "suspension" if bot.state is AccountState.SUSPENDED else "limit"
        lifted = RESTRICTIONS[bot.state][1]
        reason = f"Its owner's {what} ended"
        await _record(conn, lifted, bot, owner, actor_id, "with_owner", reason, now, to=to)


async def refuse_lift(conn: AsyncConnection, actor_id: str | None, target: Account) -> None:
    """Whoever answers for the account (it, or a bot's owner) does not decide that its
    restriction ends, as they may not decide its appeal: another moderator does. Nor does anyone
    lift a bot's suspension while its owner is suspended, nor its limit while its owner is
    restricted at all."""
    owner = await BotStore(conn).owner_account(target.id)
    if actor_id is not None and actor_id in (target.id, owner.id if owner else None):
        raise Forbidden("cannot_lift_own_restriction", "Another moderator must lift it")
    if owner is None or owner.state not in (AccountState.SUSPENDED, AccountState.LIMITED):
        return
    if owner.state is AccountState.SUSPENDED:
        raise Conflict("owner_suspended", f"@{target.handle}'s owner @{owner.handle} is suspended")
    if target.state is AccountState.LIMITED:
        raise Conflict("owner_limited", f"@{target.handle}'s owner @{owner.handle} is limited")


@dataclass(frozen=True)
class Answering:
    """Who answers for an account's moderation: the account, and a bot's owner too, who is the
    only one to read a bot's notices and appeal them."""

    account_ids: tuple[str, ...]
    bot: str | None  # the bot's handle when it is one: what its owner's notifications name


async def answering_for(conn: AsyncConnection, account_id: str) -> Answering:
    """Who is told of, and may appeal, what moderation does to `account_id`."""
    owner = await BotStore(conn).owner_account(account_id)
    if owner is None:
        return Answering((account_id,), None)
    bot = await AccountStore(conn).by_id(account_id)
    return Answering((account_id, owner.id), bot.handle if bot else None)


async def tell_owner(
    conn: AsyncConnection, target: Account, state: AccountState, notice: Notice, now: datetime
) -> None:
    """`target`, if a bot, was suspended or limited on its own: its owner, who answers for it,
    is told; the notice is among theirs to read and appeal (services.moderation)."""
    owner = await BotStore(conn).owner_account(target.id)
    if owner is None:
        return
    told = BotRestricted(target.handle, state, notice.id, notice.rule, notice.until)
    await NotificationStore(conn).add_many([owner.id], NotificationKind.BOT_RESTRICTED, told, now)


async def restricted_owner(conn: AsyncConnection, target: Account) -> Account | None:
    """`target`'s owner, when `target` is a bot whose owner is suspended or limited; else None."""
    owner = await BotStore(conn).owner_account(target.id)
    if owner is None or owner.state not in (AccountState.SUSPENDED, AccountState.LIMITED):
        return None
    return owner


async def keep_with_owner(conn: AsyncConnection, bot: Account, state: AccountState) -> None:
    """`bot` is `state` with its owner now (no end of its own), and comes back when they do."""
    await AccountStore(conn).set_state(bot.id, state)
    await BotStore(conn).set_with_owner(bot.id, True)


async def hold_for_owner(conn: AsyncConnection, target: Account) -> bool:
    """A bot's own timed suspension (or limit) ran out while its owner is suspended (or
    limited): it stays so, now with its owner, and comes back when they do. True when held."""
    owner = await restricted_owner(conn, target)
    if owner is None or owner.state is not target.state:
        return False
    await keep_with_owner(conn, target, target.state)
    return True


async def _record(
    conn: AsyncConnection,
    action: ModerationAction,
    bot: Account,
    owner: Account,
    actor_id: str | None,
    rule: str,
    reason: str,
    now: datetime,
    *,
    to: AccountState,
) -> None:
    await ModerationStore(conn).take_action(
        ActionTaken.of(
            new_id(), action, bot.id, actor_id=actor_id, rule=rule, reason=reason, at=now
        ),
        before={"state": bot.state.value},
        after={"state": to.value, "with_owner": owner.id},
    )


def _comes_over(state: AccountState, bot_state: AccountState) -> bool:
    """Whether the owner's new restriction `state` restricts a bot that is `bot_state`."""
    if bot_state is AccountState.ACTIVE:
        return True
    return state is AccountState.SUSPENDED and bot_state is AccountState.LIMITED
