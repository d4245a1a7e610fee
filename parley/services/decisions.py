"""The one transaction every decision about a space runs in: load the space, let `core` decide,
persist, then publish the events. Space controls, presence, feature switches and moderation all
decide through it, so a space's lock, its event log and its notifications work alike for each."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.core.errors import NotFound
from parley.core.notifications import NotificationKind, SpaceNews
from parley.core.spaces import rules
from parley.core.spaces.events import Event, EventType, SpaceUpdated
from parley.core.spaces.model import Limits, SpaceState
from parley.services.accounts import Caller
from parley.services.common import Clock
from parley.services.publisher import EventPublisher
from parley.store.accounts import AccountStore, SocialStore
from parley.store.db import Database
from parley.store.notifications import NotificationStore
from parley.store.spaces import SpaceStore

log = logging.getLogger(__name__)

# Runs inside the decision's transaction, which on SQLite is one round trip to the writer
# thread (Database.write_whole): a decision awaits nothing but its connection's statements.
Decide = Callable[[SpaceState, AsyncConnection], Awaitable[list[Event]]]
# What else a decision writes in its transaction, once the space is saved.
Then = Callable[[list[Event], AsyncConnection], Awaitable[None]]


@dataclass(eq=False)
class SpaceDecisions:
    db: Database
    publisher: EventPublisher
    settings: Settings
    _: KW_ONLY
    clock: Clock
    limits: Limits = field(init=False)
    # Told of each space a decision here ended, once its events are published (live HLS ends a
    # stream nobody mixes, and the recording with it, at once rather than at a later check).
    ended_listeners: list[Callable[[str], None]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.limits = Limits(stage_size=self.settings.stage_size)

    async def decide(
        self, space_id: str, involving: Sequence[str], decide: Decide, then: Then | None = None
    ) -> tuple[SpaceState, list[Event]]:
        async def whole(conn: AsyncConnection) -> tuple[SpaceState, list[Event]]:
            store = SpaceStore(conn)
            state = await store.load(space_id, involving, limits=self.limits)
            if state is None:
                raise NotFound("space_not_found", "No such space")
            events = await decide(state, conn)
            await store.save(state, events)
            if events:
                await self._after(conn, state, events)
            if then is not None:
                await then(events, conn)
            return state, events

        # One round trip to the database for the whole decision (store/db.py).
        state, events = await self.db.write_whole(whole)
        await self.publisher.publish(events)
        if any(e.type is EventType.SPACE_ENDED for e in events):
            for listener in self.ended_listeners:
                try:
                    listener(space_id)
                except Exception:  # the decision stands: what it ended is over
                    log.exception("space %s: an end listener failed", space_id)
        return state, events

    async def act(
        self,
        space_id: str,
        caller: Caller,
        action: Callable[[SpaceState], list[Event]],
        *also: str,
    ) -> list[Event]:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return action(state)

        _, events = await self.decide(space_id, [caller.account.id, *also], decide)
        return events

    async def _after(self, conn: AsyncConnection, state: SpaceState, events: list[Event]) -> None:
        space = state.space
        if any(e.type is EventType.SPACE_STARTED for e in events):
            await self._notify_live(conn, state)
        if any(e.type is EventType.SPACE_CANCELLED for e in events):
            await self._notify_reminded(conn, state, NotificationKind.SPACE_CANCELLED)
        if any(isinstance(e.data, SpaceUpdated) and e.data.scheduled_start for e in events):
            await self._notify_reminded(conn, state, NotificationKind.SPACE_RESCHEDULED)
        # Keep the replay window; older cursors are answered with a snapshot. A recorded space
        # keeps all its events: its replay shows who spoke when, and the reactions.
        window = self.settings.event_replay_limit
        if not space.recording and space.seq > window and any(e.seq % 100 == 0 for e in events):
            await SpaceStore(conn).prune_events(space.id, space.seq - window)

    async def _notify_live(self, conn: AsyncConnection, state: SpaceState) -> None:
        space = state.space
        host = state.participants.get(space.host_id)
        followers = await SocialStore(conn).follower_ids(space.host_id)
        reminded = await SpaceStore(conn).reminder_account_ids(space.id)
        # Whoever starts it knows: a host's own reminder (the API lets one set it) tells nobody.
        audience = sorted((set(followers) | set(reminded)) - {space.host_id})
        await NotificationStore(conn).add_many(
            audience,
            NotificationKind.SPACE_LIVE,
            SpaceNews(space.id, space.title, host.handle if host else None),
            self.clock(),
        )

    async def _notify_reminded(
        self, conn: AsyncConnection, state: SpaceState, kind: NotificationKind
    ) -> None:
        """Those who asked to be reminded of a scheduled space hear that it moved (they keep
        their reminder) or was called off: they planned on it. Not the host, who did it;
        unless it lapsed because they never went live (then `reason: "not_started"`)."""
        space = state.space
        reminded = set(await SpaceStore(conn).reminder_account_ids(space.id)) - {space.host_id}
        lapsed = kind is NotificationKind.SPACE_CANCELLED and space.end_reason == rules.NOT_STARTED
        if lapsed:
            reminded.add(space.host_id)
        if not reminded:
            return
        host = await AccountStore(conn).by_id(space.host_id)
        moved = kind is NotificationKind.SPACE_RESCHEDULED
        details = SpaceNews(
            space.id,
            space.title,
            host.handle if host else None,
            scheduled_start=space.scheduled_start if moved else None,
            # Only this why: any other is the host's own doing, or moderation's, which a
            # notification that outlives a lifted suspension must not tell.
            reason=rules.NOT_STARTED if lapsed else None,
        )
        await NotificationStore(conn).add_many(sorted(reminded), kind, details, self.clock())
