"""The WebRTC edge: one peer connection per person in a space, wired to that space's mixer.

A stage member's connection sends and receives: their voice goes into the mixer and they hear
the mix without themselves. A listener's connection only receives the program, which the mixer
encoded once for everyone; the answer tells the browser not to send at all. Who may be heard is
not decided here: the service tells the room (`set_audible`), and the mixer enforces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCRtpSender,
    RTCSessionDescription,
)

from parley.config import IceServer
from parley.media.aiortc_internals import OperationError
from parley.media.connection import PeerConnection
from parley.media.fanout import ProgramFanout
from parley.media.ingress import receive_without_delay
from parley.media.liveness import SilenceWatch, note_signs_of_life
from parley.media.mixer import Mixer
from parley.media.offer import OfferRefused, check_offer
from parley.media.program_switch import ProgramSource, ProgramSwitch

__all__ = ["OfferRefused", "OfferSuperseded", "Peer", "Room", "RoomClosed"]

log = logging.getLogger(__name__)

# How often a connection's signs of life are looked at.
WATCH_INTERVAL_SECONDS = 1.0


class OfferSuperseded(Exception):
    """A later offer or hang-up of the same person came first; this offer gets no answer."""


class RoomClosed(Exception):
    """The room closed (its space ended) while the offer waited or was being answered."""


@dataclass(eq=False)
class Peer:
    account_id: str
    pc: PeerConnection
    sends: bool
    # Set once we close it ourselves, so the close is not mistaken for the peer going away.
    closing: bool = False
    # When the peer last sent anything (RTP, RTCP), by the loop's clock.
    last_heard: float = field(default=0.0)
    # A stage member's mix-minus, sent as the program is (below aiortc's sender, in C where
    # it can): through aiortc's Python RTP path it was a sixth of the main thread's time with
    # one speaker and no listener (docs/benchmarks.md).
    return_feed: ProgramFanout | None = None


@dataclass(eq=False)
class _Turn:
    """One person's offers in a room: answered one at a time, and only the latest of those
    waiting is answered at all (a client that offers again has given up on the earlier one)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    latest: object = None
    waiting: int = 0


class Room:
    """The media of one live space on this node: its mixer and everyone's connection to it.

    On the space's home node the mixer runs and is the program's source; on any other node the
    room only has listeners, and its program comes from a relay (`take_program_from`) until the
    space's home moves here (`start_mixing`)."""

    def __init__(
        self,
        space_id: str,
        *,
        ice_servers: Callable[[], list[IceServer]],
        silence_seconds: float,
        on_active_speakers: Callable[[list[str]], None],
        on_empty: Callable[[], None] = lambda: None,
        on_connected: Callable[[str], None] = lambda account_id: None,
        on_disconnected: Callable[[str], None] = lambda account_id: None,
        on_speaker_audio: Callable[[str, bool], None] = lambda account_id, connected: None,
        switchable: bool = False,
    ) -> None:
        self.space_id = space_id
        self.ice_servers = ice_servers
        self.silence_seconds = silence_seconds
        self.on_empty = on_empty
        # Told of each person's connection as it is kept and as it goes, in that order (a
        # replaced connection goes before its successor is kept): presence counts them.
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        # Told when a stage member's connection died (False) and of each sending connection kept
        # (True): the space's state decides whether that changes anything (a home that died
        # between a loss and the return leaves it to the next home's room to say).
        self.on_speaker_audio = on_speaker_audio
        self.mixer = Mixer(on_active_speakers=on_active_speakers)
        # Only a room that may relay another node's program reads it through a switch; a single
        # node's listeners read the mixer directly (an e2e test heard clicks through the switch
        # on a busy machine, not yet explained: docs in the relay's report).
        self.program: ProgramSwitch | None = ProgramSwitch() if switchable else None
        self.fanout = ProgramFanout(
            self.program.track if self.program is not None else self.mixer.program_track
        )
        self.mixing = False
        self.peers: dict[str, Peer] = {}
        # Connections being negotiated, not yet in `peers`: a hang-up or the room's close
        # marks them closing, and their answer then closes them instead of keeping them.
        self.negotiating: dict[str, Peer] = {}
        self._turns: dict[str, _Turn] = {}
        self._started = False
        self._closed = False
        self._watchdog: asyncio.Task[None] | None = None
        # Connections that died, being hung up: the room's close waits for them.
        self._hang_ups: set[asyncio.Task[None]] = set()

    async def answer(self, account_id: str, offer_sdp: str, *, send: bool) -> str:
        """Answer the person's offer with a new connection, replacing any they had: a client
        reconnects, or renegotiates after a change of role, by simply offering again.

        One person's offers are answered one at a time, so each closes the connection before
        it; an offer overtaken by a later one while it waited is refused (OfferSuperseded)."""
        check_offer(offer_sdp)
        turn = self._turns.setdefault(account_id, _Turn())
        ticket = turn.latest = object()
        turn.waiting += 1
        try:
            async with turn.lock:
                if turn.latest is not ticket:
                    raise OfferSuperseded("a later offer replaced this one")
                return await self._answer(account_id, offer_sdp, send=send)
        finally:
            turn.waiting -= 1
            if not turn.waiting:
                del self._turns[account_id]

    async def _answer(self, account_id: str, offer_sdp: str, *, send: bool) -> str:
        if self._closed:
            raise RoomClosed("the room is closed")
        if send and not self.mixing:
            raise RuntimeError("only the space's home node takes stage audio")
        if not self._started:
            self._started = True
            self._watchdog = asyncio.create_task(self._watch(), name=f"media-watch:{self.space_id}")
        await self.disconnect(account_id)
        # Asked anew for each connection: TURN credentials expire.
        servers = _rtc_ice_servers(self.ice_servers())
        pc = PeerConnection(RTCConfiguration(iceServers=servers))
        peer = Peer(account_id, pc, sends=send)
        self.negotiating[account_id] = peer
        try:
            await self._negotiate(peer, offer_sdp)
        except BaseException:
            await self._hang_up(peer)
            raise
        finally:
            del self.negotiating[account_id]
        if peer.closing:
            # Hung up, or the room closed, while we negotiated.
            await self._hang_up(peer)
            if self._closed:
                raise RoomClosed("the room closed while the offer was answered")
            raise OfferSuperseded("the connection was hung up while it was negotiated")
        self.peers[account_id] = peer
        self.on_connected(account_id)
        if send:
            self.on_speaker_audio(account_id, True)
        loop = asyncio.get_running_loop()
        peer.last_heard = loop.time()

        def heard() -> None:
            peer.last_heard = loop.time()

        note_signs_of_life(pc, heard, listener=not send, clock=loop.time)

        @pc.on("connectionstatechange")
        async def _state_changed() -> None:
            if peer.closing or self.peers.get(account_id) is not peer:
                return
            if pc.connectionState == "failed":
                # ICE gave up (its checks failed): the same as going silent.
                self._lost(peer)
            elif pc.connectionState == "closed":
                # A clean hang-up (the client closed its connection, maybe to offer anew):
                # they stay in the space, without audio until they connect again. Only this
                # connection goes: an offer of theirs being answered is a new one, not this.
                await self._drop(peer)

        assert pc.localDescription is not None
        return pc.localDescription.sdp

    async def _negotiate(self, peer: Peer, offer_sdp: str) -> None:
        pc = peer.pc

        @pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            # A listener's offer may carry a track too; it is never mixed.
            if track.kind == "audio" and peer.sends and not peer.closing:
                self.mixer.attach(peer.account_id, track)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except (ValueError, LookupError, AssertionError, OperationError) as exc:
            raise OfferRefused("invalid_sdp", f"The offer cannot be answered: {exc}") from exc
        if peer.closing:
            return  # hung up meanwhile: the answer is thrown away, the mixer may be stopped
        audio = [t for t in pc.getTransceivers() if t.kind == "audio"]
        if not audio:
            raise OfferRefused("invalid_sdp", "The offer has no audio")
        opus = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.name == "opus"]
        for index, transceiver in enumerate(audio):
            transceiver.setCodecPreferences(opus)
            if index > 0:
                transceiver.direction = "inactive"
            elif peer.sends:
                transceiver.direction = "sendrecv"
                receive_without_delay(transceiver.receiver)
                peer.return_feed = ProgramFanout(
                    functools.partial(self.mixer.mix_minus_track, peer.account_id)
                )
                peer.return_feed.attach(transceiver.sender)
            else:
                # Never "sendrecv": the answer then tells the browser not to send anything.
                transceiver.direction = "sendonly"
                self.fanout.attach(transceiver.sender)
        await pc.setLocalDescription(await pc.createAnswer())

    async def start_mixing(self) -> None:
        """This node is the space's home: mix the stage here, and make that the program."""
        if self._closed:
            raise RoomClosed("the room is closed")
        if not self.mixing:
            await self.mixer.start()
            self.mixing = True
            if self.program is not None:
                self.program.use(self.mixer.program_track)

    def take_program_from(self, source: ProgramSource) -> None:
        """The program comes from elsewhere (a relay of the home node's mixer)."""
        assert self.program is not None, "this room was made to mix only"
        self.program.use(source)

    def set_audible(self, account_ids: set[str]) -> None:
        self.mixer.set_audible(account_ids)

    async def disconnect(self, account_id: str) -> None:
        """Hang up the person's connection, and the one being negotiated for them, if any."""
        pending = self.negotiating.get(account_id)
        if pending is not None:
            pending.closing = True  # its answer hangs it up once negotiation returns
        peer = self.peers.get(account_id)
        if peer is not None:
            await self._drop(peer)

    async def _drop(self, peer: Peer) -> None:
        if self.peers.get(peer.account_id) is not peer:
            return
        del self.peers[peer.account_id]
        self.on_disconnected(peer.account_id)
        await self._hang_up(peer)
        if not self.peers:
            self.on_empty()

    async def _hang_up(self, peer: Peer) -> None:
        peer.closing = True
        self.mixer.detach(peer.account_id)
        for transceiver in peer.pc.getTransceivers():
            self.fanout.detach(transceiver.sender)
        if peer.return_feed is not None:
            await peer.return_feed.close()  # stops its mix-minus track
        await peer.pc.close()
        # A sender does not stop its track; ours would keep the mixer making audio for nobody.
        for transceiver in peer.pc.getTransceivers():
            if transceiver.sender.track is not None:
                transceiver.sender.track.stop()

    async def close(self) -> None:
        self._closed = True
        for pending in self.negotiating.values():
            pending.closing = True
        for account_id in list(self.peers):
            await self.disconnect(account_id)
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self._hang_ups:
            await asyncio.wait(self._hang_ups)
        if self.program is not None:
            self.program.close()
        await self.fanout.close()
        if self.mixing:
            await self.mixer.stop()

    @property
    def empty(self) -> bool:
        return not self.peers

    def _lost(self, peer: Peer) -> None:
        """Hang up a connection that died (silent, or ICE failed), and only that one: an offer
        its owner made meanwhile is a new connection. The owner stays in the space; presence
        counts their connections, event sockets included, and with none left they leave after
        the presence timeout, as anyone (a speaker whose audio dropped keeps the stage while the
        client offers again)."""
        if peer.closing or self.peers.get(peer.account_id) is not peer:
            return
        log.info("space %s: media of %s went away", self.space_id, peer.account_id)
        peer.closing = True
        if peer.sends:
            self.on_speaker_audio(peer.account_id, False)
        # In a task of its own: the watchdog, which finds most of them, is cancelled at close.
        hang_up = asyncio.create_task(self._drop(peer), name=f"media-lost:{self.space_id}")
        self._hang_ups.add(hang_up)
        hang_up.add_done_callback(self._hang_ups.discard)

    async def _watch(self) -> None:
        """Drop connections that show no sign of life: a browser that vanished without closing
        (a crashed tab, a network gone) would otherwise count as present for ever, as this side
        asks it no ICE consent (liveness.py). Listeners send receiver reports and consent
        requests every few seconds, speakers send audio all the time.

        A pause of the loop itself (the process or its host stood still) is not taken for their
        silence (SilenceWatch; test_media's first test pauses the loop past the silence)."""
        loop = asyncio.get_running_loop()
        watch = SilenceWatch(self.silence_seconds, WATCH_INTERVAL_SECONDS, loop.time())
        while True:
            await asyncio.sleep(WATCH_INTERVAL_SECONDS)
            for peer in watch.silent(self.peers.values(), loop.time()):
                self._lost(peer)


def _rtc_ice_servers(servers: list[IceServer]) -> list[RTCIceServer]:
    return [
        RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in servers
    ]
