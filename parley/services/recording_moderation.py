"""Moderators remove a space's recording: deleted to every reader at once (410
`recording_deleted`, deletion `moderator`), its host told why (a notice naming the space, and a
notification) and able to appeal; a moderator overturning the removal on appeal makes the
recording readable again, clips and transcript with it (removals.py). Until then its files
and rows are kept, hidden, and its retention deletes them as any recording's (not while the
appeal is open). Each is an action of its own in the audit log and the transparency report,
whoever hosted it."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.errors import Gone, NotFound
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import NoticeRead
from parley.core.notifications import NotificationKind
from parley.services.common import Clock
from parley.services.removals import record_removal, removal
from parley.store.db import Database
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore


@dataclass(eq=False)
class RecordingModeration:
    db: Database
    _: KW_ONLY
    clock: Clock

    async def remove(self, actor: Actor, space_id: str, rule: str, reason: str) -> NoticeRead:
        """Remove a recording (a hidden one too) under a rule; the notice its host gets."""
        rules.require_acting_moderator(actor)
        rule, reason = rules.clean_rule(rule), rules.clean_reason(reason)
        now = self.clock()
        async with self.db.write() as conn:
            store = RecordingStore(conn)
            recording = await store.get(space_id)
            space = await SpaceStore(conn).get(space_id)
            if recording is None or space is None:
                raise NotFound("recording_not_found", "This space was not recorded")
            taken = removal(ModerationAction.REMOVE_RECORDING, space_id, actor, rule, reason, now)
            if not await store.remove(space_id, taken.id, actor.account_id, now):
                raise Gone("recording_deleted", "This recording was deleted already")
            notice = await record_removal(
                conn,
                taken,
                owner_id=recording.host_id,
                about=space.title,
                after={"state": "removed", "host_id": recording.host_id},
                told=NotificationKind.RECORDING_REMOVED,
            )
        return NoticeRead(notice)
