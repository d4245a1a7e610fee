"""A limit a suspension came over. The suspension stops more than the limit, but does not end
it: lifting the suspension (a moderator, its time, an appeal) must not lift a limit nobody
lifted, or suspending a limited account for an hour would be the way to free it. So the limit
waits under the suspension and holds again when it ends, with its own end; unless that end came
first, or an appeal overturned the limit meanwhile: then it ends there, logged and told as any
limit's end. Accounts and their bots alike."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import Account, AccountState
from parley.core.moderation import HeldLimit, ModerationAction
from parley.core.moderation_records import ActionTaken, Notice
from parley.core.notifications import Lifted, NotificationKind
from parley.services.common import new_id
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.restrictions import RestrictionStore
from parley.store.tokens import BotStore


async def hold(conn: AsyncConnection, account: Account) -> bool:
    """In the caller's transaction, before a suspension comes over `account`: its limit, if it
    is limited, waits under it. True when one does. A bot limited only because its owner is has
    no limit of its own to keep: its owner's is found again when the suspension ends
    (services.restrictions.lift)."""
    if account.state is not AccountState.LIMITED or await BotStore(conn).is_with_owner(account.id):
        return False
    await RestrictionStore(conn).hold_limit(account.id)
    return True


async def resume(conn: AsyncConnection, account: Account, now: datetime) -> HeldLimit | None:
    """`account`'s suspension is ending: the limit that waited under it, to hold again; None if
    there was none, or if its own end came meanwhile (which ends it here, logged and told)."""
    store = RestrictionStore(conn)
    held = await store.held_limit(account.id)
    if held is None:
        return None
    await store.release_held_limit(account.id)
    if not held.lapsed(now):
        return held
    # Logged now, when it is found; the reason says it ran out before (its `until` is in the
    # limit's own notice).
    reason = "The limit ended during the suspension"
    await _end(conn, account, actor_id=None, rule="expired", reason=reason, now=now)
    return None


async def overturn(
    conn: AsyncConnection,
    account: Account,
    notice: Notice,
    *,
    actor_id: str | None,
    reason: str,
    now: datetime,
) -> bool:
    """An appeal overturned the limit `notice` tells of, while a suspension holds it: it ends
    now, and will not come back with the suspension's end. True when it was held."""
    store = RestrictionStore(conn)
    held = await store.held_limit(account.id)
    if notice.action is not ModerationAction.LIMIT or held is None:
        return False
    if held.action_id is not None and held.action_id != notice.action_id:
        return False  # an older limit's notice: the one held is another
    await store.release_held_limit(account.id)
    await _end(conn, account, actor_id=actor_id, rule="appeal", reason=reason, now=now)
    return True


async def _end(
    conn: AsyncConnection,
    account: Account,
    *,
    actor_id: str | None,
    rule: str,
    reason: str,
    now: datetime,
) -> None:
    taken = ActionTaken.of(
        new_id(),
        ModerationAction.UNLIMIT,
        account.id,
        actor_id=actor_id,
        rule=rule,
        reason=reason,
        at=now,
    )
    # The account stays suspended: what ended is the limit that would have followed.
    state = {"state": account.state.value}
    await ModerationStore(conn).take_action(
        taken, before=state | {"held": AccountState.LIMITED.value}, after=state
    )
    await NotificationStore(conn).add_many(
        [account.id], NotificationKind.UNLIMITED, Lifted(reason), now
    )
