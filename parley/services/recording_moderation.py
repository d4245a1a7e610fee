"""Moderators remove a space's recording: deleted to every reader at once (410
`recording_deleted`, deletion `moderator`), its host told why (a notice naming the space, and a
notification) and able to appeal; a moderator overturning the removal on appeal makes the
recording readable again, clips and transcript with it (appeal_undo.py). Until then its files
and rows are kept, hidden, and its retention deletes them as any recording's (not while the
appeal is open). Each is an action of its own in the audit log and the transparency report,
whoever hosted it."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.errors import Gone, NotFound
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import ActionTaken, Notice, NoticeRead
from parley.core.notifications import NotificationKind
from parley.services.common import Clock, new_id
from parley.store.db import Database
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore


@dataclass(eq=False)
class RecordingModeration:
    db: Database
    _: KW_ONLY
    clock: Clock

    async def remove(self, actor: Actor, space_id: str, rule: str, reason: str) -> NoticeRead:
        """Remove a recording (a hidden one too) under a rule; the notice its host gets."""
        rules.require_moderator(actor)
        rule, reason = rules.clean_rule(rule), rules.clean_reason(reason)
        now = self.clock()
        async with self.db.write() as conn:
            store = RecordingStore(conn)
            recording = await store.get(space_id)
            space = await SpaceStore(conn).get(space_id)
            if recording is None or space is None:
                raise NotFound("recording_not_found", "This space was not recorded")
            taken = ActionTaken.of(
                new_id(),
                ModerationAction.REMOVE_RECORDING,
                space_id,
                actor_id=actor.account_id,
                rule=rule,
                reason=reason,
                at=now,
            )
            if not await store.remove(space_id, taken.id, actor.account_id, now):
                raise Gone("recording_deleted", "This recording was deleted already")
            moderation = ModerationStore(conn)
            after = {"state": "removed", "host_id": recording.host_id}
            await moderation.take_action(taken, before={"state": "shown"}, after=after)
            notice = Notice.to(recording.host_id, new_id(), taken, about=space.title)
            await moderation.add_notice(notice)
            told = {"space_id": space_id, "notice_id": notice.id, "rule": rule}
            await NotificationStore(conn).add_many(
                [recording.host_id], NotificationKind.RECORDING_REMOVED, told, now
            )
        return NoticeRead(notice)
