"""Space use cases: creating, showing and listing spaces, the host's controls, what participants
do, and the event log. Each decision runs in `SpaceDecisions`; pinned posts, presence, feature
switches and accounts leaving every space live beside this (pins.py, presence.py, features.py,
departures.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.messages import KeptOut
from parley.config import Settings
from parley.core.accounts import (
    HANDLE_RE,
    Account,
    AccountState,
    check_may_be_on_stage,
    check_may_contribute,
)
from parley.core.errors import Conflict, NotFound
from parley.core.links.render import TextPart
from parley.core.moderation import Feature
from parley.core.spaces import rules, stage, validation
from parley.core.spaces.events import Event, SpaceUpdated
from parley.core.spaces.model import (
    Participant,
    Space,
    SpaceState,
    SpaceStatus,
    SpeakPolicy,
)
from parley.services.accounts import Caller
from parley.services.common import Clock, new_id
from parley.services.decisions import SpaceDecisions
from parley.services.features import FeatureSwitches
from parley.services.views import SpaceView, StageSnapshot, space_view
from parley.store.accounts import AccountStore, SocialStore
from parley.store.db import Database
from parley.store.spaces import SpaceStore
from parley.store.types import storable_key


class PersonMove(StrEnum):
    """What someone in a space can do to another, named by handle (API.md's stage routes)."""

    ADD_SPEAKER = "add_speaker"
    TO_AUDIENCE = "to_audience"
    ADD_COHOST = "add_cohost"
    REMOVE_COHOST = "remove_cohost"
    MUTE = "mute"
    REMOVE = "remove"


# Each decides in core, given the space, the actor, the target and the time.
_PERSON_MOVES: Mapping[PersonMove, Callable[[SpaceState, str, str, datetime], list[Event]]] = {
    PersonMove.ADD_SPEAKER: stage.add_speaker,
    PersonMove.TO_AUDIENCE: stage.to_audience,
    PersonMove.ADD_COHOST: stage.add_cohost,
    PersonMove.REMOVE_COHOST: stage.remove_cohost,
    PersonMove.MUTE: stage.mute,
    PersonMove.REMOVE: rules.remove,
}

RenderLinks = Callable[[Sequence[tuple[str, str]]], Awaitable[list[tuple[TextPart, ...]]]]


class SpaceService:
    def __init__(
        self,
        db: Database,
        decisions: SpaceDecisions,
        features: FeatureSwitches,
        settings: Settings,
        *,
        guard_links: Callable[[str], Awaitable[None]],
        render_links: RenderLinks,
        socket_follows: Callable[[str, str, int], Awaitable[None]],
        clock: Clock,
    ) -> None:
        self.db = db
        self.clock = clock
        self.features = features
        # Every decision runs in the one transaction all services share.
        self._decide = decisions.decide
        self._act = decisions.act
        self.bus = decisions.publisher.bus
        self.settings = settings
        # Refuses text with a blocked link in it (LinkChecks.guard): titles, descriptions.
        self.guard_links = guard_links
        # Titles and descriptions as parts with their links through the redirector
        # (Redirector.render), for every reader alike; the host answers for both.
        self.render_links = render_links
        # Counts the event socket a host opens next on starting their space, as a join counts
        # a listener's (JoinService.expect_socket): the host is in the room until it comes, and
        # away if it never does.
        self.socket_follows = socket_follows

    async def _account_id(self, handle: str) -> Account:
        async with self.db.read() as conn:
            account = await AccountStore(conn).by_handle(handle)
        if account is None:
            raise NotFound("account_not_found", f"No account @{handle}")
        return account

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
        check_may_contribute(caller.account)
        await self.features.require(Feature.SPACES_CREATE)
        now = self.clock()
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

    async def view(self, space_id: str, viewer: Caller | None = None) -> SpaceView:
        async def read(
            conn: AsyncConnection,
        ) -> tuple[Space, dict[str, list[Participant]], Account | None, set[str]]:
            store = SpaceStore(conn)
            space, stages = await _space_and_stage(store, space_id)
            host = await AccountStore(conn).by_id(space.host_id)
            return space, stages, host, await _reminded(store, viewer, [space])

        space, stages, host, reminded = await self.db.read_whole(read)
        hosts = {space.host_id: host} if host else {}
        return (await self._views([space], stages, hosts, reminded))[0]

    async def stage(self, space_id: str) -> StageSnapshot:
        """Who is on the stage, and as of which event: no text rendered, no host looked up."""
        async with self.db.read() as conn:
            space, stages = await _space_and_stage(SpaceStore(conn), space_id)
        return StageSnapshot(space.id, space.state, space.seq, tuple(stages[space_id]))

    async def seq(self, space_id: str) -> int:
        """The sequence number of the space's last event; 0 for no such space."""
        return (await self.seqs([space_id])).get(space_id, 0)

    async def browse(
        self, state: SpaceStatus, viewer: Caller | None, limit: int = 50, text: str | None = None
    ) -> list[SpaceView]:
        """Spaces in `state` anyone may be shown, those of hosts the viewer follows first;
        `text`: only those whose title or a topic holds it."""
        if text is not None and not storable_key(text.strip()):
            return []  # nothing stored holds it (PostgreSQL would refuse the query)
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            followed: list[str] = []
            if viewer is not None:
                followed = await SocialStore(conn).followee_ids(viewer.account.id)
            wanted = text.strip() if text is not None else None
            shown = partial(store.by_state, state, limit=limit, public=True, text=wanted or None)
            first = await shown(host_ids=followed) if followed else []
            rest = await shown()
            seen = {s.id for s in first}
            spaces = (first + [s for s in rest if s.id not in seen])[:limit]
            stages = await store.stages([s.id for s in spaces])
            hosts = await AccountStore(conn).by_ids(list({s.host_id for s in spaces}))
            reminded = await _reminded(store, viewer, spaces)
        return await self._views(spaces, stages, hosts, reminded)

    async def hosted_by(
        self, handle: str, state: SpaceStatus, viewer: Caller | None, limit: int = 50
    ) -> list[SpaceView]:
        """One account's spaces in `state`, under the rules anyone's listing follows."""
        async with self.db.read() as conn:
            host = (
                await AccountStore(conn).by_handle(handle) if HANDLE_RE.fullmatch(handle) else None
            )
            if host is None or host.state is AccountState.DEACTIVATED:
                raise NotFound("account_not_found", f"No account @{handle}")
            store = SpaceStore(conn)
            spaces = await store.by_state(state, limit=limit, host_ids=[host.id], public=True)
            stages = await store.stages([s.id for s in spaces])
            reminded = await _reminded(store, viewer, spaces)
        return await self._views(spaces, stages, {host.id: host}, reminded)

    async def _views(
        self,
        spaces: Sequence[Space],
        stages: Mapping[str, list[Participant]],
        hosts: Mapping[str, Account],
        reminded: Collection[str] = frozenset(),
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
                reminded=s.id in reminded,
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
        await self.features.require(Feature.SPACES_CREATE)
        return await self._start(caller, space_id)

    async def _start(self, caller: Caller, space_id: str) -> SpaceView:
        me = caller.account
        check_may_contribute(me)
        started = await self._act(
            space_id, caller, lambda s: rules.start(s, me.id, me.handle, self.clock())
        )
        if started:
            await self.socket_follows(space_id, me.id, started[-1].seq)
        return await self.view(space_id)

    async def end(self, caller: Caller, space_id: str) -> SpaceView:
        await self._act(space_id, caller, lambda s: rules.end(s, caller.account.id, self.clock()))
        return await self.view(space_id)

    async def set_recording(self, caller: Caller, space_id: str, on: bool) -> SpaceView:
        """The host starts or stops recording a live space (an event: everyone sees REC)."""
        me = caller.account.id
        await self._act(space_id, caller, lambda s: rules.set_recording(s, me, on, self.clock()))
        return await self.view(space_id)

    async def edit(
        self,
        caller: Caller,
        space_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        topics: Sequence[str] | None = None,
        scheduled_start: datetime | None = None,
    ) -> SpaceView:
        """Change what is given, leave the rest. A new start moves a scheduled space (those
        with a reminder set are told: services.decisions)."""
        now = self.clock()
        cleaned = SpaceUpdated(
            title=None if title is None else validation.clean_title(title),
            description=None if description is None else validation.clean_description(description),
            topics=None if topics is None else validation.clean_topics(list(topics)),
            scheduled_start=(
                None if scheduled_start is None else validation.check_schedule(scheduled_start, now)
            ),
        )
        for text in (cleaned.title, cleaned.description):
            if text is not None:
                await self.guard_links(text)
        await self._act(space_id, caller, lambda s: rules.edit(s, caller.account.id, now, cleaned))
        return await self.view(space_id, caller)

    async def remind(self, caller: Caller, space_id: str) -> None:
        async with self.db.write() as conn:
            store = SpaceStore(conn)
            space = await store.get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            if space.state is not SpaceStatus.SCHEDULED:
                raise Conflict("space_not_scheduled", "Reminders are for scheduled spaces")
            await store.add_reminder(space_id, caller.account.id, self.clock())

    async def cancel_reminder(self, caller: Caller, space_id: str) -> None:
        """Take a reminder back, had there been one or not (a DELETE may be repeated). In any
        state of the space: one already live or over reminds nobody any more, and refusing to
        forget what no longer matters would only leave a client stuck on an error."""
        async with self.db.write() as conn:
            store = SpaceStore(conn)
            if await store.get(space_id) is None:
                raise NotFound("space_not_found", "No such space")
            await store.remove_reminder(space_id, caller.account.id)

    # --- participants ---------------------------------------------------------------------

    async def leave(self, caller: Caller, space_id: str) -> None:
        await self._act(space_id, caller, lambda s: rules.leave(s, caller.account.id, self.clock()))

    async def raise_hand(self, caller: Caller, space_id: str) -> None:
        check_may_contribute(caller.account)
        me = caller.account.id

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            follows = await SocialStore(conn).follows(state.space.host_id, me)
            return stage.raise_hand(state, me, self.clock(), host_follows_actor=follows)

        await self._decide(space_id, [me], decide)

    async def lower_hand(self, caller: Caller, space_id: str) -> None:
        await self._act(
            space_id, caller, lambda s: stage.lower_hand(s, caller.account.id, self.clock())
        )

    async def on_person(self, caller: Caller, space_id: str, handle: str, move: PersonMove) -> None:
        """The caller moves, mutes or removes someone in the space, named by handle."""
        target = await self._account_id(handle)
        if move in (PersonMove.ADD_SPEAKER, PersonMove.ADD_COHOST):
            check_may_be_on_stage(target)
        me = caller.account.id
        decide = _PERSON_MOVES[move]
        await self._act(
            space_id, caller, lambda s: decide(s, me, target.id, self.clock()), target.id
        )

    async def unmute(self, caller: Caller, space_id: str) -> None:
        check_may_contribute(caller.account)
        await self._act(
            space_id, caller, lambda s: stage.unmute(s, caller.account.id, self.clock())
        )

    async def accept_invitation(self, caller: Caller, space_id: str) -> None:
        check_may_contribute(caller.account)
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.accept_invitation(s, me, self.clock()))

    async def decline_invitation(self, caller: Caller, space_id: str) -> None:
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.decline_invitation(s, me, self.clock()))

    async def react(self, caller: Caller, space_id: str, emoji: str) -> None:
        check_may_contribute(caller.account)
        me = caller.account.id
        await self._act(space_id, caller, lambda s: stage.react(s, me, emoji, self.clock()))

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
                    state, blocked_id, self.clock(), by=host.account.id, reason="blocked"
                )

            await self._decide(space_id, [host.account.id, blocked_id], decide)
        if hosted:
            # Someone only watching has no place to be expelled from: every node closes their
            # sockets on these spaces instead.
            await messages.publish(self.bus, KeptOut(blocked_id, tuple(hosted)))

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


async def _space_and_stage(
    store: SpaceStore, space_id: str
) -> tuple[Space, dict[str, list[Participant]]]:
    space = await store.get(space_id)
    if space is None:
        raise NotFound("space_not_found", "No such space")
    return space, await store.stages([space_id])


async def _reminded(store: SpaceStore, viewer: Caller | None, spaces: Sequence[Space]) -> set[str]:
    """Which of these spaces the viewer asked to be reminded of, in one query. Only a scheduled
    space's reminder is still to come: once it went live (or never will), there is none."""
    scheduled = [s.id for s in spaces if s.state is SpaceStatus.SCHEDULED]
    if viewer is None or not scheduled:
        return set()
    return await store.reminded_among(viewer.account.id, scheduled)
