"""What a suspension and a limit share once they end: by a moderator, by their own end, or by an
overturned appeal, the account is active again, the bots restricted with it too, and it is told,
each an action of its own in the audit log and the transparency report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import Account, AccountState
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import ActionTaken
from parley.core.notifications import NotificationKind
from parley.services import bots
from parley.services.common import new_id
from parley.store.accounts import AccountStore
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore

# What each action restricting an account leaves it in, while it lasts.
IMPOSED_BY = {
    ModerationAction.SUSPEND: AccountState.SUSPENDED,
    ModerationAction.LIMIT: AccountState.LIMITED,
}
# Each restriction's lifting: the action it is recorded as, and what the account is told.
_LIFTED = {
    AccountState.SUSPENDED: (ModerationAction.UNSUSPEND, NotificationKind.UNSUSPENDED),
    AccountState.LIMITED: (ModerationAction.UNLIMIT, NotificationKind.UNLIMITED),
}


async def lift(
    conn: AsyncConnection,
    target: Account,
    *,
    actor_id: str | None,
    rule: str,
    reason: str,
    now: datetime,
) -> None:
    """In the caller's transaction: `target`, suspended or limited, is active again."""
    action, told = _LIFTED[target.state]
    await AccountStore(conn).set_state(target.id, AccountState.ACTIVE)
    await ModerationStore(conn).take_action(
        ActionTaken.of(
            new_id(), action, target.id, actor_id=actor_id, rule=rule, reason=reason, at=now
        ),
        before={"state": target.state.value},
        after={"state": AccountState.ACTIVE.value},
    )
    await NotificationStore(conn).add_many([target.id], told, {"reason": reason}, now)
    await bots.lift_with_owner(conn, target, actor_id=actor_id, now=now)
