"""Moderators end one space: a live one ends at once for everyone in it (`space_ended`, reason
`moderation`, with a message saying so), a scheduled one is called off, and either is taken
down (its page and share page 410 `space_removed`, posts sharing it without it), without
touching its host's account. The host is told why (a notice naming the space, and a
notification) and may appeal; a moderator overturning it brings the space's page back, ended
(removals.py). Each is an action of its own in the audit log and the transparency report,
whoever hosts the space. Its recording is a decision of its own (recording_moderation.py)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.moderation import ModerationAction
from parley.core.moderation_records import Notice, NoticeRead
from parley.core.notifications import NotificationKind
from parley.core.spaces import rules as space_rules
from parley.core.spaces.events import Event
from parley.core.spaces.exposure import MODERATED
from parley.core.spaces.model import SpaceState
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.services.removals import record_removal, removal
from parley.services.sharing import SharingService

# What everyone in the space reads as it ends.
ENDED_MESSAGE = "A moderator ended this space"


@dataclass(eq=False)
class SpaceModeration:
    decisions: SpaceDecisions
    # Spaces found shown lately are remembered for HLS and share pages: this one no longer is.
    sharing: SharingService
    _: KW_ONLY
    clock: Clock

    async def end(self, actor: Actor, space_id: str, rule: str, reason: str) -> NoticeRead:
        """End (or call off) a space under a rule; the notice its host gets. 409 `space_over`
        for one already over."""
        rules.require_acting_moderator(actor)
        rule, reason = rules.clean_rule(rule), rules.clean_reason(reason)
        told: list[Notice] = []

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            now = self.clock()
            host_id, title = state.space.host_id, state.space.title
            events = space_rules.finish(state, now, MODERATED, ENDED_MESSAGE)
            taken = removal(ModerationAction.END_SPACE, space_id, actor, rule, reason, now)
            notice = await record_removal(
                conn,
                taken,
                owner_id=host_id,
                about=title,
                after={"state": state.space.state.value, "host_id": host_id},
                told=NotificationKind.SPACE_REMOVED,
            )
            told.append(notice)
            return events

        await self.decisions.decide(space_id, [], decide)
        self.sharing.forget_spaces([space_id])
        return NoticeRead(told[0])
