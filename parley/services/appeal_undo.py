"""What a moderator overturning a removal on appeal undoes, in the decision's transaction: a
removed post is shown again, a removed recording readable again. Each restoration is an action
of its own in the audit log and the transparency report. (A suspension is lifted by the
moderation service itself: its bots and its notification go with it.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.moderation import ModerationAction
from parley.core.moderation_records import ActionTaken, Notice
from parley.services.common import new_id
from parley.store.moderation import ModerationStore
from parley.store.posts import PostStore
from parley.store.recordings import RecordingStore

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
}


async def undo_removal(
    conn: AsyncConnection, notice: Notice, *, actor_id: str, reason: str, now: datetime
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
