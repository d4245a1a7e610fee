"""A moderator's removal of one thing (a post, a space's recording, a space), whoever it
belongs to: the action recorded (audit log and transparency report), its owner told (a notice
they may appeal, and a notification), and, overturned on appeal, the thing back (a removed post
shown again, a removed recording readable again, an ended space's page back), each restoration
an action of its own. (A suspension or a limit is lifted by services/restrictions.py: its bots
and its notification go with it.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.actors import Actor
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import ActionTaken, Details, Notice
from parley.core.notifications import NotificationKind, PostRemoved, SpaceRemoved
from parley.services import bots
from parley.services.common import new_id
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.posts import PostStore
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore


def removal(
    action: ModerationAction, target_id: str, actor: Actor, rule: str, reason: str, at: datetime
) -> ActionTaken:
    """The action removing `target_id`, not yet recorded: its id goes on the thing removed."""
    return ActionTaken.of(
        new_id(), action, target_id, actor_id=actor.account_id, rule=rule, reason=reason, at=at
    )


async def record_removal(
    conn: AsyncConnection,
    taken: ActionTaken,
    *,
    owner_id: str,
    about: str,
    after: Details,
    told: NotificationKind,
) -> Notice:
    """In the caller's transaction, once the thing is removed: the action recorded, and its
    owner told, quoting `about` (a post's text, a space's title), by a notice and a `told`
    notification naming the thing (a post, or the space removed or whose recording is); the
    notice."""
    store = ModerationStore(conn)
    await store.take_action(taken, before={"state": "shown"}, after=after)
    notice = Notice.to(owner_id, new_id(), taken, about=about)
    await store.add_notice(notice)
    answering = await bots.answering_for(conn, owner_id)  # a bot's owner too, naming the bot
    payload = PostRemoved if told is NotificationKind.POST_REMOVED else SpaceRemoved
    data = payload(taken.target_id, notice.id, taken.rule, bot=answering.bot)
    await NotificationStore(conn).add_many(answering.account_ids, told, data, taken.created_at)
    return notice


# Given the removing action's id, what brings the thing back: its id, or None if it is gone
# meanwhile (deleted by its author, or by its retention).
Restore = Callable[[AsyncConnection, str], Awaitable[str | None]]

_RESTORATIONS: dict[ModerationAction, tuple[ModerationAction, Restore]] = {
    ModerationAction.REMOVE_POST: (
        ModerationAction.RESTORE_POST,
        lambda conn, action_id: PostStore(conn).restore_removed_by(action_id),
    ),
    ModerationAction.REMOVE_RECORDING: (
        ModerationAction.RESTORE_RECORDING,
        lambda conn, action_id: RecordingStore(conn).restore_removed_by(action_id),
    ),
    ModerationAction.END_SPACE: (
        ModerationAction.RESTORE_SPACE,
        lambda conn, action_id: _restore_space(conn, action_id),
    ),
}


async def _restore_space(conn: AsyncConnection, action_id: str) -> str | None:
    """The space that action ended reads as ended, no longer taken down: its id."""
    space_id = await ModerationStore(conn).target_of(action_id)
    if space_id is None or not await SpaceStore(conn).overturn_takedown(space_id):
        return None
    return space_id


async def undo_removal(
    conn: AsyncConnection, notice: Notice, *, actor_id: str | None, reason: str, now: datetime
) -> None:
    """The removal the notice told of is overturned: what it removed is back, if it still is."""
    found = _RESTORATIONS.get(notice.action)
    if found is None:
        return  # not a removal
    action, restore = found
    target_id = await restore(conn, notice.action_id)
    if target_id is None:
        return  # nothing to bring back
    taken = ActionTaken.of(
        new_id(), action, target_id, actor_id=actor_id, rule="appeal", reason=reason, at=now
    )
    await ModerationStore(conn).take_action(
        taken, before={"state": "removed"}, after={"state": "shown"}
    )
