"""Moderators remove a post: shown to nobody from then on, its author told why (a notice quoting
it, and a notification) and able to appeal; a moderator overturning the removal on appeal shows
it again (removals.py).
Each is an action of its own in the audit log and the transparency report, whoever wrote the
post. The narrower tool than a suspension, for one post that breaks a rule."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.errors import Conflict, NotFound
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import NoticeRead, PostState
from parley.core.notifications import NotificationKind
from parley.services.common import Clock
from parley.services.pins import PinService
from parley.services.removals import record_removal, removal
from parley.store.db import Database
from parley.store.posts import PostStore


@dataclass(eq=False)
class PostModeration:
    db: Database
    # A removed post leaves every room's pins at once.
    pins: PinService
    _: KW_ONLY
    clock: Clock

    async def remove(self, actor: Actor, post_id: str, rule: str, reason: str) -> NoticeRead:
        """Remove a post under a rule; the notice its author gets."""
        rule, reason = rules.clean_rule(rule), rules.clean_reason(reason)
        now = self.clock()
        async with self.db.write() as conn:
            found = (await PostStore(conn).moderated([post_id])).get(post_id)
            if found is None or found.state is PostState.DELETED:
                raise NotFound("post_not_found", "No such post")
            author = found.post.author
            rules.may_remove_post(actor, author)
            taken = removal(ModerationAction.REMOVE_POST, post_id, actor, rule, reason, now)
            if not await PostStore(conn).remove(post_id, taken.id):
                raise Conflict("post_already_removed", "A moderator removed this post already")
            notice = await record_removal(
                conn,
                taken,
                owner_id=author.id,
                about=found.post.text,
                after={"state": PostState.REMOVED.value, "author_id": author.id},
                told=NotificationKind.POST_REMOVED,
            )
        await self.pins.unpin_everywhere(post_id, by="moderation")
        return NoticeRead(notice)
