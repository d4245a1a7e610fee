"""Media use cases: who may connect, and keeping each space's mixer in step with its stage.

A room follows its space's events on the bus, the same stream the WebSockets get, so a mute, a
move to the audience or a removal decided on any node reaches the mixer here within
milliseconds, and the mixer drops that person's audio whatever their client keeps sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import KW_ONLY, dataclass, field

from aiortc import MediaStreamTrack

from parley.bus import messages
from parley.bus.base import Bus
from parley.bus.messages import (
    ParticipantGone,
    SpaceOver,
    UnknownEvent,
    space_channel,
    stage_effect,
)
from parley.config import IceServer, Settings
from parley.core.errors import Conflict, Forbidden, Invalid, Unavailable
from parley.core.spaces.events import Event, MicChanged, RoleChanged
from parley.core.spaces.model import Participant
from parley.media.edge import OfferRefused, OfferSuperseded, Room, RoomClosed
from parley.media.offer import check_offer
from parley.services.accounts import Caller
from parley.services.background import BackgroundWork, cancel_and_wait
from parley.services.captions import CaptionService
from parley.services.common import Clock
from parley.services.hls import HlsService
from parley.services.homing import Homing
from parley.services.ice import IceCredentials
from parley.services.listener_cap import ListenerCap
from parley.services.media_presence import MediaPresence
from parley.services.media_reports import RoomReports
from parley.services.placement import RoomPlacement
from parley.services.presence import PresenceService
from parley.services.spaces import SpaceService
from parley.services.watched_room import StageMember, WatchedRoom

log = logging.getLogger(__name__)

# How long a closing node waits for its media connections' counts to be taken back.
CLOSE_COUNTS_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    """The SDP answer to an offer, with the ICE servers the browser should use."""

    sdp: str
    ice_servers: tuple[IceServer, ...]


@dataclass(eq=False)
class MediaService:
    bus: Bus
    spaces: SpaceService
    # Where speaking levels and connections (counted as presence) are reported.
    presence: PresenceService
    settings: Settings
    _: KW_ONLY
    clock: Clock
    homing: Homing
    hls: HlsService | None = None
    captions: CaptionService | None = None
    rooms: dict[str, WatchedRoom] = field(default_factory=dict, init=False)
    # The task of each room that left `rooms` and is still closing (letting go of its home).
    _closing: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    cap: ListenerCap = field(init=False)
    placement: RoomPlacement = field(init=False)
    _background: BackgroundWork = field(
        default_factory=lambda: BackgroundWork(log, "media background work"), init=False
    )
    reports: RoomReports = field(init=False)
    # Each connection here counts as presence, as a socket does.
    connections: MediaPresence = field(init=False)
    ice: IceCredentials = field(init=False)
    # The node is stopping (Node.drain_begins): offers are refused.
    draining: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.cap = ListenerCap(self.settings.webrtc_listener_cap)
        self.placement = RoomPlacement(self.homing, self.spaces, self.hls)
        self.ice = IceCredentials(self.settings, self.clock)
        self.reports = RoomReports(self.presence, self._background.spawn)
        self.connections = MediaPresence(self.presence.connected, self.presence.disconnected)
        self.homing.on_lost = lambda space_id: self._background.spawn(self._close_room(space_id))
        self.homing.load = lambda: sum(len(w.room.peers) for w in self.rooms.values())

    async def connect(self, caller: Caller, space_id: str, sdp: str, kind: str) -> Answer:
        """Answer a WebRTC offer: stage members send and receive, listeners only receive.
        A stage member's offer is answered by the space's home node, wherever it arrives: only
        the home's mixer hears the stage (this node passes the offer on and the answer back)."""
        if kind != "offer":
            raise Invalid("invalid_sdp_type", "Send an SDP offer (type: offer)")
        self._refuse_if_draining()
        account_id = caller.account.id
        send = await self._admit(account_id, space_id, sdp)
        if send:
            home = await self.placement.home_elsewhere(space_id, self._local_room(space_id))
            if home is not None:
                answer = await self.placement.forward_offer(
                    home, space_id, account_id, caller.session_id, sdp
                )
                return Answer(answer, self.ice.for_account(account_id))
        rooms = [w.room for w in self.rooms.values()]
        admitted: AbstractContextManager[None] = (
            nullcontext() if send else self.cap.admit(rooms, space_id, account_id)
        )
        with admitted:
            answer = await self._answer(account_id, caller.session_id, space_id, sdp, send=send)
        return Answer(answer, self.ice.for_account(account_id))

    async def connect_forwarded(
        self, account_id: str, session_id: str, space_id: str, sdp: str
    ) -> str:
        """A stage member's offer another node passed on to this one, the space's home."""
        self._refuse_if_draining()
        send = await self._admit(account_id, space_id, sdp)
        if await self.placement.home_elsewhere(space_id, self._local_room(space_id)):
            raise Conflict("not_home", "This node is no longer the space's home")
        return await self._answer(account_id, session_id, space_id, sdp, send=send)

    def _refuse_if_draining(self) -> None:
        if self.draining:
            raise Unavailable(
                "node_draining", "This node is shutting down; offer again", retry_after=1
            )

    def _local_room(self, space_id: str) -> Room | None:
        watched = self.rooms.get(space_id)
        return None if watched is None else watched.room

    async def _admit(self, account_id: str, space_id: str, sdp: str) -> bool:
        """Whether the participant sends (is on stage), once the offer may be answered."""
        if not (await self.spaces.stage(space_id)).live:
            raise Forbidden("space_not_live", "The space is not live")
        me = await self._participant(account_id, space_id)
        try:
            offered = check_offer(sdp)  # before any room exists for it
        except OfferRefused as exc:
            raise Invalid(exc.code, str(exc)) from exc
        on_stage = me.role.on_stage and not me.removed
        if on_stage and not offered.sends:
            # A client that offered as a listener just before being brought on stage: its
            # next offer, made on the role's event, sends. (aiortc gives such an offer no track
            # to receive, which the stage's connection needs.)
            raise Conflict(
                "offer_not_sending",
                "You are on stage: offer to send audio (sendrecv), not only to receive",
            )
        return on_stage

    async def _answer(
        self, account_id: str, session_id: str, space_id: str, sdp: str, *, send: bool
    ) -> str:
        watched = await self._room(space_id)
        watched.answering += 1
        try:
            answer = await watched.room.answer(account_id, sdp, send=send)
        except OfferRefused as exc:
            raise Invalid(exc.code, str(exc)) from exc
        except OfferSuperseded as exc:
            raise Conflict(
                "offer_superseded", "A later offer or hang-up of yours replaced this offer"
            ) from exc
        except RoomClosed as exc:
            raise Forbidden("space_not_live", "The space is not live") from exc
        finally:
            watched.answering -= 1
            if watched.room.empty:
                self._background.spawn(self._close_if_empty(watched))
        if not await self._still_in(space_id, account_id):
            # They left or were removed while we answered; the event that said so may have
            # reached the room before this connection existed.
            await watched.room.disconnect(account_id)
            raise Forbidden("not_in_space", "Join the space before connecting its audio")
        watched.sessions[account_id] = session_id
        # The role may have changed while we negotiated; the room's own view is the truth.
        watched.room.set_audible(watched.audible())
        return answer

    async def config(self, caller: Caller, space_id: str) -> tuple[IceServer, ...]:
        """What a participant needs before offering: the ICE servers (no trickle ICE here, so
        the browser must know them when it gathers its candidates), with a TURN credential of
        their own. Only for participants: a TURN relay is bandwidth the node pays for."""
        await self.spaces.stage(space_id)  # 404 for no such space
        await self._participant(caller.account.id, space_id)
        return self.ice.for_account(caller.account.id)

    async def _participant(self, account_id: str, space_id: str) -> Participant:
        me = await self.spaces.participant(space_id, account_id)
        if me is not None and me.removed:
            raise Forbidden("removed_from_space", "You were removed from this space")
        if me is None or not me.present:
            raise Forbidden("not_in_space", "Join the space before connecting its audio")
        return me

    def ready(self) -> bool:
        """Media can be served: no room's mixer or event follower has died."""
        return all(w.task is None or not w.task.done() for w in self.rooms.values())

    async def disconnect(self, caller: Caller, space_id: str) -> None:
        watched = self.rooms.get(space_id)
        if watched is not None:
            await watched.room.disconnect(caller.account.id)
        if self.homing.enabled and (watched is None or not watched.room.mixing):
            # A stage member's connection is on the home node.
            home = await self.homing.current(space_id)
            if home is not None and not self.homing.is_me(home):
                await self.placement.forward_hang_up(home, space_id, caller.account.id)

    async def hang_up_forwarded(self, space_id: str, account_id: str) -> None:
        watched = self.rooms.get(space_id)
        if watched is not None:
            await watched.room.disconnect(account_id)

    @contextlib.asynccontextmanager
    async def relay_feed(self, space_id: str, node_id: str) -> AsyncIterator[MediaStreamTrack]:
        """The program of a space mixed here, for another node that relays it to its own
        listeners; the room stays open (mixing) while any node relays it."""
        if not (await self.spaces.stage(space_id)).live:
            raise Forbidden("space_not_live", "The space is not live")
        if await self.placement.home_elsewhere(space_id, self._local_room(space_id)):
            raise Conflict("not_home", "This node is not the space's home")
        watched = await self._room(space_id)
        watched.placement.relays += 1
        watched.placement.relayed_to.add(node_id)
        try:
            yield watched.room.mixer.program_track()
        finally:
            watched.placement.relays -= 1
            if watched.room.empty:
                self._background.spawn(self._close_if_empty(watched))

    async def catch_up(self) -> None:
        """Rooms that missed events on the bus reload their stage from the store (the same
        reason as the sockets' catch-up: a mute must never be lost)."""
        for space_id in set(self.homing.held) - set(self.rooms):
            await self.homing.release(space_id)  # claimed for a room that never opened
        rooms = [w for w in self.rooms.values() if w.ready.is_set()]
        latest = await self.spaces.seqs([w.room.space_id for w in rooms])
        for watched in rooms:
            seq = latest.get(watched.room.space_id, 0)
            if seq > watched.last_seq:
                if not (await self.spaces.stage(watched.room.space_id)).live:
                    watched.ended = True
                    await self._close_room(watched.room.space_id)
                    continue
                await self._reload(watched)
                for account_id in list(watched.room.peers):
                    if not await self._still_in(watched.room.space_id, account_id):
                        await watched.room.disconnect(account_id)

    async def _still_in(self, space_id: str, account_id: str) -> bool:
        p = await self.spaces.participant(space_id, account_id)
        return p is not None and p.present and not p.removed

    async def hang_up_account(self, account_id: str) -> None:
        """Cut the account's media in every room on this node: its audio stops at once (the
        mixer forgets it before the connection is torn down)."""
        for watched in list(self.rooms.values()):
            if account_id in watched.room.peers:
                await self._hang_up(watched, account_id)

    async def hang_up_sessions(self, session_ids: set[str]) -> None:
        """Cut the media connections made with these sessions (a sign-out, an expiry), and
        only those: the same account signed in elsewhere keeps its own."""
        for watched in list(self.rooms.values()):
            for account_id, session_id in list(watched.sessions.items()):
                if session_id in session_ids:
                    # The stage stays as it is: the account is still in the space, and may
                    # come back on another session.
                    del watched.sessions[account_id]
                    if account_id in watched.room.peers:
                        await watched.room.disconnect(account_id)

    def peer_sessions(self) -> set[str]:
        """The sessions of this node's media connections."""
        return {
            session_id
            for watched in self.rooms.values()
            for account_id, session_id in watched.sessions.items()
            if account_id in watched.room.peers
        }

    async def _hang_up(self, watched: WatchedRoom, account_id: str) -> None:
        watched.stage.pop(account_id, None)
        watched.room.set_audible(watched.audible())
        await watched.room.disconnect(account_id)

    async def close(self) -> None:
        """The node is going away (SIGTERM): first each space mixed here goes to another node
        (one that relayed it, if any), whose relay then drops and which starts mixing at once;
        then every connection here closes, and its client offers again elsewhere."""
        for watched in list(self.rooms.values()):
            if self.homing.enabled and watched.room.mixing:
                space_id = watched.room.space_id
                try:
                    to = await self.homing.hand_over(space_id, watched.placement.relayed_to)
                    log.info("space %s: handed over to %s", space_id, to and to.node_id)
                except Exception:
                    log.exception("could not hand space %s over", space_id)
        for space_id in list(self.rooms):
            await self._close_room(space_id)
        await self.connections.close(CLOSE_COUNTS_SECONDS)
        self._background.cancel()
        await self.placement.close()

    # --- one room per live space with media on this node -----------------------------------

    async def _room(self, space_id: str) -> WatchedRoom:
        # A room of the space that is still closing lets go of the space's home first: a room
        # opened beside it would claim the home, the old room's release would then undo that
        # claim, and the new room would mix with no lease (so another node could mix it too).
        while (closing := self._closing.get(space_id)) is not None:
            await asyncio.wait([closing])
        watched = self.rooms.get(space_id)
        if watched is None or (watched.task is not None and watched.task.done()):
            room = Room(
                space_id,
                ice_servers=self.ice.for_node,
                silence_seconds=self.settings.media_silence_seconds,
                on_active_speakers=lambda ids: self.reports.active_speakers(space_id, ids),
                on_connected=lambda account_id: self.connections.opened(space_id, account_id),
                on_disconnected=lambda account_id: self.connections.closed(space_id, account_id),
                on_speaker_audio=functools.partial(self.reports.speaker_audio, space_id),
                switchable=self.homing.enabled,
            )
            watched = self.rooms[space_id] = WatchedRoom(room)
            room.on_empty = self._closer(watched)
            if self.captions is not None:
                self.captions.mixer_started(space_id, room.mixer)
            watched.task = asyncio.create_task(self._follow(watched), name=f"media:{space_id}")
        ready = asyncio.ensure_future(watched.ready.wait())
        assert watched.task is not None
        await asyncio.wait([ready, watched.task], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not watched.ready.is_set():
            watched.task.result()  # raises what stopped it
        try:
            await self.placement.place(watched.room, watched.placement)
        except RoomClosed as exc:
            raise Forbidden("space_not_live", "The space is not live") from exc
        return watched

    async def _follow(self, watched: WatchedRoom) -> None:
        space_id = watched.room.space_id
        try:
            channel = space_channel(space_id)
            async with self.bus.subscribe(channel) as sub:
                # Subscribed first, then read the stage: no change can fall in between.
                await self._reload(watched)
                watched.ready.set()
                async for text in sub:
                    match messages.decode(channel, text):
                        case Event() as event:
                            if await self._apply(watched, event):
                                watched.ended = True
                                return
                        case UnknownEvent(seq=seq) if seq == watched.last_seq + 1:
                            watched.last_seq = seq  # nothing to act on, and no gap to fill
        finally:
            if self.captions is not None:
                self.captions.mixer_stopped(space_id, watched.room.mixer)
            with contextlib.suppress(Exception):
                await watched.room.close()
            try:
                await self.placement.stopped(watched.room, watched.placement)
            except Exception:
                log.exception("could not let go of space %s", space_id)
            if self.hls is not None:
                try:
                    await self.hls.mixer_stopped(space_id, watched.room.mixer, ended=watched.ended)
                except Exception:
                    log.exception("could not stop the HLS of space %s", space_id)
            if self.rooms.get(space_id) is watched:
                del self.rooms[space_id]

    async def _reload(self, watched: WatchedRoom) -> None:
        snapshot = await self.spaces.stage(watched.room.space_id)
        watched.last_seq = snapshot.seq
        watched.stage = {p.account_id: StageMember(p.role, p.muted) for p in snapshot.stage}
        watched.room.set_audible(watched.audible())

    async def _apply(self, watched: WatchedRoom, event: Event) -> bool:
        """Apply one event to the room; True when the space is over."""
        seq = event.seq
        if seq <= watched.last_seq:
            return False
        if seq > watched.last_seq + 1:
            # A gap (publishers on different nodes overtaking): the store has the truth.
            await self._reload(watched)
            watched.last_seq = max(watched.last_seq, seq)
        watched.last_seq = seq
        room, stage = watched.room, watched.stage
        match stage_effect(event):
            case SpaceOver():
                return True
            case RoleChanged(account_id=account_id, role=role, muted=muted) if role.on_stage:
                stage[account_id] = StageMember(role, muted)
            case RoleChanged(account_id=account_id):
                stage.pop(account_id, None)
            case MicChanged(account_id=account_id, muted=muted) if account_id in stage:
                stage[account_id].muted = muted
            case ParticipantGone(account_id):
                stage.pop(account_id, None)
                room.set_audible(watched.audible())
                await room.disconnect(account_id)
        room.set_audible(watched.audible())
        return False

    def _closer(self, watched: WatchedRoom) -> Callable[[], None]:
        return lambda: self._background.spawn(self._close_if_empty(watched))

    async def _close_if_empty(self, watched: WatchedRoom) -> None:
        """Nobody left on this node's media of the space: stop its mixer until someone comes."""
        space_id = watched.room.space_id
        idle = watched.room.empty and not watched.answering and not watched.placement.relays
        if self.rooms.get(space_id) is watched and idle:
            await self._close_room(space_id)

    async def _close_room(self, space_id: str) -> None:
        watched = self.rooms.pop(space_id, None)
        if watched is None or watched.task is None:
            return
        task = self._closing[space_id] = watched.task
        try:
            await cancel_and_wait(task)
        finally:
            if self._closing.get(space_id) is task:
                del self._closing[space_id]
