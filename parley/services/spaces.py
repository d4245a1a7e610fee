"""Space use cases: load the space, let `core` decide, persist, then publish the events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.core.accounts import Account
from parley.core.errors import Conflict, NotFound, Unavailable
from parley.core.links.render import TextPart
from parley.core.moderation import Feature
from parley.core.spaces import rules, stage, validation
from parley.core.spaces.events import Event
from parley.core.spaces.model import (
    Limits,
    Participant,
    Space,
    SpaceState,
    SpaceStatus,
    SpeakPolicy,
)
from parley.services import orders
from parley.services.accounts import Caller
from parley.services.common import new_id, utcnow
from parley.services.publisher import EventPublisher
from parley.services.views import SpaceView, StageSnapshot, space_view
from parley.store.accounts import AccountStore, SocialStore
from parley.store.db import Database
from parley.store.moderation import ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.spaces import SpaceStore

Decide = Callable[[SpaceState, AsyncConnection], Awaitable[list[Event]]]
RenderLinks = Callable[[Sequence[tuple[str, str]]], Awaitable[list[tuple[TextPart, ...]]]]


class SpaceService:
    def __init__(
        self,
        db: Database,
        publisher: EventPublisher,
        settings: Settings,
        *,
        guard_links: Callable[[str], Awaitable[None]],
        render_links: RenderLinks,
    ) -> None:
        self.db = db
        self.publisher = publisher
        self.settings = settings
        # Refuses text with a blocked link in it (LinkService.guard): titles, descriptions.
        self.guard_links = guard_links
        # Titles and descriptions as parts with their links through the redirector
        # (LinkService.render), for every reader alike; the host answers for both.
        self.render_links = render_links
        self.limits = Limits(stage_size=settings.stage_size)

    # --- the transaction every decision runs in ------------------------------------------

    async def _decide(
        self, space_id: str, involving: Sequence[str], decide: Decide
    ) -> tuple[SpaceState, list[Event]]:
        async with self.db.write() as conn:
            store = SpaceStore(conn)
            state = await store.load(space_id, involving, limits=self.limits)
            if state is None:
                raise NotFound("space_not_found", "No such space")
            events = await decide(state, conn)
            await store.save(state, events)
            if events:
                await self._after(conn, state, events)
        await self.publisher.publish(events)
        return state, events

    async def _after(self, conn: AsyncConnection, state: SpaceState, events: list[Event]) -> None:
        space = state.space
        if any(e.type == "space_started" for e in events):
            await self._notify_live(conn, space)
        # Keep the replay window; older cursors are answered with a snapshot.
        window = self.settings.event_replay_limit
        if space.seq > window and any(e.seq % 100 == 0 for e in events):
            await SpaceStore(conn).prune_events(space.id, space.seq - window)

    async def _notify_live(self, conn: AsyncConnection, space: Space) -> None:
        followers = await SocialStore(conn).follower_ids(space.host_id)
        reminded = await SpaceStore(conn).reminder_account_ids(space.id)
        audience = sorted(set(followers) | set(reminded))
        await NotificationStore(conn).add_many(
            audience, "space_live", {"space_id": space.id, "title": space.title}, utcnow()
        )

    async def _account_id(self, handle: str) -> Account:
        async with self.db.read() as conn:
            account = await AccountStore(conn).by_handle(handle)
        if account is None:
            raise NotFound("account_not_found", f"No account @{handle}")
        return account

    async def _act(
        self,
        space_id: str,
        caller: Caller,
        action: Callable[[SpaceState], list[Event]],
        *also: str,
    ) -> list[Event]:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return action(state)

        _, events = await self._decide(space_id, [caller.account.id, *also], decide)
        return events

    # --- creating, showing and listing -----------------------------------------------------

    async def create(
        self,
        caller: Caller,
        *,
        title: str,
        description: str = "",
        topics: Sequence[str] = (),
        scheduled_start: datetime | None = None,
        recording: bool = False,
        speak_policy: SpeakPolicy = SpeakPolicy.EVERYONE,
    ) -> SpaceView:
        await self.require_feature(Feature.SPACES_CREATE)
        now = utcnow()
        space = Space(
            id=new_id(),
            host_id=caller.account.id,
            title=validation.clean_title(title),
            state=SpaceStatus.SCHEDULED,
            created_at=now,
            description=validation.clean_description(description),
            topics=validation.clean_topics(list(topics)),
            scheduled_start=(
                validation.check_schedule(scheduled_start, now) if scheduled_start else None
            ),
            recording=recording,
            speak_policy=speak_policy,
        )
        await self.guard_links(space.title)
        await self.guard_links(space.description)
        async with self.db.write() as conn:
            await SpaceStore(conn).create(space)
        if scheduled_start is None:
            return await self._start(caller, space.id)
        return await self.view(space.id)

    async def view(self, space_id: str) -> SpaceView:
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            space = await store.get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            stages = await store.stages([space_id])
            host = await AccountStore(conn).by_id(space.host_id)
        return (await self._views([space], stages, {space.host_id: host} if host else {}))[0]

    async def stage(self, space_id: str) -> StageSnapshot:
        """Who is on the stage, and as of which event: no text rendered, no host looked up."""
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            space = await store.get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            stages = await store.stages([space_id])
        return StageSnapshot(space.id, space.state, space.seq, tuple(stages[space_id]))

    async def seq(self, space_id: str) -> int:
        """The sequence number of the space's last event; 0 for no such space."""
        return (await self.seqs([space_id])).get(space_id, 0)

    async def browse(
        self, state: SpaceStatus, viewer: Caller | None, limit: int = 50
    ) -> list[SpaceView]:
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            followed: list[str] = []
            if viewer is not None:
                followed = await SocialStore(conn).followee_ids(viewer.account.id)
            first = await store.by_state(state, limit=limit, host_ids=followed) if followed else []
            rest = await store.by_state(state, limit=limit)
            seen = {s.id for s in first}
            spaces = (first + [s for s in rest if s.id not in seen])[:limit]
            stages = await store.stages([s.id for s in spaces])
            hosts = await AccountStore(conn).by_ids(list({s.host_id for s in spaces}))
        return await self._views(spaces, stages, hosts)

    async def _views(
        self,
        spaces: Sequence[Space],
        stages: Mapping[str, list[Participant]],
        hosts: Mapping[str, Account],
    ) -> list[SpaceView]:
        texts = [(text, s.host_id) for s in spaces for text in (s.title, s.description)]
        parts = await self.render_links(texts)
        return [
            space_view(
                s,
                stages[s.id],
                hosts.get(s.host_id),
                title_parts=parts[2 * i],
                description_parts=parts[2 * i + 1],
            )
            for i, s in enumerate(spaces)
        ]

    async def listeners(self, space_id: str, limit: int = 100) -> list[Participant]:
        async with self.db.read() as conn:
            return await SpaceStore(conn).listeners(space_id, limit)

    async def participant(self, space_id: str, account_id: str) -> Participant | None:
        async with self.db.read() as conn:
            return await SpaceStore(conn).participant(space_id, account_id)

    async def follower(self, space_id: str, account_id: str) -> Participant | None:
        """The record of someone about to follow the space's events (None if they never
        joined), or the refusal they would get joining: removed, or blocked by the host."""
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            participant = await store.participant(space_id, account_id)
            space = await store.get(space_id)
            blocked = space is not None and await SocialStore(conn).blocks(
                space.host_id, account_id
            )
        rules.check_may_follow(participant, blocked_by_host=blocked)
        return participant

    # --- the host's controls ---------------------------------------------------------------

    async def start(self, caller: Caller, space_id: str) -> SpaceView:
        await self.require_feature(Feature.SPACES_CREATE)
        return await self._start(caller, space_id)

    async def _start(self, caller: Caller, space_id: str) -> SpaceView:
        me = caller.account
        await self._act(space_id, caller, lambda s: rules.start(s, me.id, me.handle, utcnow()))
        return await self.view(space_id)

    async def end(self, caller: Caller, space_id: str) -> SpaceView:
        await self._act(space_id, caller, lambda s: rules.end(s, caller.account.id, utcnow()))
        return await self.view(space_id)

    async def edit(
        self,
        caller: Caller,
        space_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        topics: Sequence[str] | None = None,
    ) -> SpaceView:
        """Change what is given, leave the rest."""
        cleaned: dict[str, object] = {}
        if title is not None:
            cleaned["title"] = validation.clean_title(title)
        if description is not None:
            cleaned["description"] = validation.clean_description(description)
        if topics is not None:
            cleaned["topics"] = validation.clean_topics(list(topics))
        for key in ("title", "description"):
            if key in cleaned:
                await self.guard_links(str(cleaned[key]))
        await self._act(
            space_id, caller, lambda s: rules.edit(s, caller.account.id, utcnow(), cleaned)
        )
        return await self.view(space_id)

    async def remind(self, caller: Caller, space_id: str) -> None:
        async with self.db.write() as conn:
            store = SpaceStore(conn)
            space = await store.get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            if space.state is not SpaceStatus.SCHEDULED:
                raise Conflict("space_not_scheduled", "Reminders are for scheduled spaces")
            await store.add_reminder(space_id, caller.account.id, utcnow())

    # --- participants ---------------------------------------------------------------------

    async def join(self, caller: Caller, space_id: str) -> Participant:
        await self.require_feature(Feature.SPACES)
        me = caller.account

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            blocked = await SocialStore(conn).blocks(state.space.host_id, me.id)
            return rules.join(state, me.id, me.handle, utcnow(), blocked_by_host=blocked)

        state, _ = await self._decide(space_id, [me.id], decide)
        return state.participants[me.id]

    async def leave(self, caller: Caller, space_id: str) -> None:
        await self._act(space_id, caller, lambda s: rules.leave(s, caller.account.id, utcnow()))

    async def raise_hand(self, caller: Caller, space_id: str) -> None:
        me = caller.account.id

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            follows = await SocialStore(conn).follows(state.space.host_id, me)
            return stage.raise_hand(state, me, utcnow(), host_follows_actor=follows)

        await self._decide(space_id, [me], decide)

    async def lower_hand(self, caller: Caller, space_id: str) -> None:
        await self._act(
            space_id, caller, lambda s: stage.lower_hand(s, caller.account.id, utcnow())
        )

    async def _on(
        self,
        caller: Caller,
        space_id: str,
        handle: str,
        action: Callable[[SpaceState, str, str, datetime], list[Event]],
    ) -> None:
        target = await self._account_id(handle)
        me = caller.account.id
        await self._act(space_id, caller, lambda s: action(s, me, target.id, utcnow()), target.id)

    async def add_speaker(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, stage.add_speaker)

    async def to_audience(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, stage.to_audience)

    async def add_cohost(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, stage.add_cohost)

    async def remove_cohost(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, stage.remove_cohost)

    async def mute(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, stage.mute)

    async def remove(self, caller: Caller, space_id: str, handle: str) -> None:
        await self._on(caller, space_id, handle, rules.remove)

    async def unmute(self, caller: Caller, space_id: str) -> None:
        await self._act(space_id, caller, lambda s: stage.unmute(s, caller.account.id, utcnow()))

    async def accept_invitation(self, caller: Caller, space_id: str) -> None:
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.accept_invitation(s, me, utcnow()))

    async def decline_invitation(self, caller: Caller, space_id: str) -> None:
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.decline_invitation(s, me, utcnow()))

    async def react(self, caller: Caller, space_id: str, emoji: str) -> None:
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.react(s, me, emoji, utcnow()))

    async def keep_out(self, host: Caller, blocked_id: str) -> None:
        """Someone the host just blocked leaves the host's live spaces at once, and stops
        receiving their events."""
        async with self.db.read() as conn:
            hosted = await SpaceStore(conn).live_spaces_hosted_by(host.account.id)
        for space_id in hosted:

            async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
                if state.space.host_id != host.account.id:
                    return []
                return rules.expel(
                    state, blocked_id, utcnow(), by=host.account.id, reason="blocked"
                )

            await self._decide(space_id, [host.account.id, blocked_id], decide)
        if hosted:
            # Someone only watching has no place to be expelled from: every node closes their
            # sockets on these spaces instead.
            order = orders.KeptOut(blocked_id, tuple(hosted))
            await self.publisher.bus.publish(orders.ACCOUNTS_CHANNEL, orders.encode(order))

    # --- the event log ---------------------------------------------------------------------

    async def events_after(self, space_id: str, since: int) -> list[Event] | None:
        """Events after `since`, or None when they are no longer kept (send a snapshot)."""
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            space = await store.get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            if since > space.seq or since < space.seq - self.settings.event_replay_limit:
                return None
            events = await store.events_after(space_id, since, space.seq - since)
        if events and events[0].seq != since + 1:
            return None
        return events

    async def seqs(self, space_ids: Sequence[str]) -> dict[str, int]:
        async with self.db.read() as conn:
            return await SpaceStore(conn).seqs(space_ids)

    # --- feature switches ------------------------------------------------------------------

    async def require_feature(self, feature: Feature) -> None:
        """Refuse with 503 and the admin's public message while the feature is off. Creating a
        space needs both `spaces` and `spaces.create`."""
        async with self.db.read() as conn:
            switches = await ModerationStore(conn).features()
        wanted = [Feature.SPACES] if feature is Feature.SPACES else [Feature.SPACES, feature]
        for name in wanted:
            switch = switches.get(name.value)
            if switch is not None and not switch.enabled:
                raise Unavailable(
                    "feature_disabled",
                    switch.message or "Spaces are offline for now",
                    feature=name.value,
                )

    async def end_all(self, reason: str, message: str) -> int:
        """End every live space, telling everyone in it why; how many were ended."""
        async with self.db.read() as conn:
            live = await SpaceStore(conn).by_state(SpaceStatus.LIVE, limit=1_000_000)

        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            if state.space.state is not SpaceStatus.LIVE:
                return []
            return rules.finish(state, utcnow(), reason, message)

        for space in live:
            await self._decide(space.id, [], decide)
        return len(live)

    # --- moderation ------------------------------------------------------------------------

    async def remove_suspended(self, account_id: str) -> None:
        """Take a suspended account out of every space it is in or hosts, with an event each."""
        async with self.db.read() as conn:
            space_ids = await SpaceStore(conn).spaces_to_leave(account_id)
        for space_id in space_ids:
            await self._take_out(space_id, account_id)

    async def sweep_suspended(self) -> None:
        async with self.db.read() as conn:
            pairs = await SpaceStore(conn).suspended_still_inside()
        for space_id, account_id in pairs:
            await self._take_out(space_id, account_id)

    async def _take_out(self, space_id: str, account_id: str) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return rules.suspend(state, account_id, utcnow())

        await self._decide(space_id, [account_id], decide)

    # --- what the media layer reports -----------------------------------------------------

    async def report_active_speakers(self, space_id: str, account_ids: list[str]) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return stage.active_speakers(state, account_ids, utcnow())

        await self._decide(space_id, [], decide)

    async def drop(self, space_id: str, account_id: str, reason: str) -> None:
        """Someone's connection died (their media went silent): they leave the space."""

        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            p = state.participants.get(account_id)
            if p is None or not p.present:
                return []
            return rules.leave(state, account_id, utcnow(), reason=reason)

        await self._decide(space_id, [account_id], decide)

    # --- presence and timers ---------------------------------------------------------------

    async def connected(self, space_id: str, account_id: str) -> None:
        async with self.db.write() as conn:
            await SpaceStore(conn).connected(space_id, account_id)

    async def disconnected(self, space_id: str, account_id: str) -> None:
        async with self.db.write() as conn:
            await SpaceStore(conn).disconnected(space_id, account_id, utcnow())

    async def sweep(self) -> None:
        """Hand over spaces whose host's grace period ran out, and let go of participants whose
        sockets have been gone longer than the presence timeout. Safe on every node at once:
        each decision re-checks its condition under the space's lock."""
        now = utcnow()
        grace = timedelta(seconds=self.settings.host_grace_seconds)
        away = timedelta(seconds=self.settings.presence_timeout_seconds)
        # A host whose socket dropped starts the grace period soon, not after the presence
        # timeout: the grace period is the time the audience waits for them.
        host_away = min(away, HOST_AWAY)
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            due = await store.hosts_absent_since(now - grace)
            gone = await store.away_since(now - away, host_cutoff=now - host_away)

        async def handover(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return rules.host_timeout(state, utcnow(), grace)

        for space_id in due:
            await self._decide(space_id, [], handover)
        for space_id, account_id in gone:
            await self._decide(space_id, [account_id], _drop(account_id))


HOST_AWAY = timedelta(seconds=3)


def _drop(account_id: str) -> Decide:
    async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
        p = state.participants.get(account_id)
        # They may have come back since the sweep looked.
        if (
            p is None
            or not p.present
            or not await SpaceStore(conn).is_away(state.space.id, p.account_id)
        ):
            return []
        return rules.leave(state, account_id, utcnow(), reason="dropped")

    return decide
