"""The WebRTC clients of bench/media.py: accounts on a live stage, a speaker whose voice is a
tone, and listeners light enough that hundreds fit on one core of the load (they count SRTP
datagrams at their sockets instead of decrypting and decoding them)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket, is_rtcp

from bench.common import sign_up
from tests.support.audio import PacedMicrophone

RATE = 48_000
FRAME = 960  # 20 ms, one Opus packet
PACKETS_PER_SECOND = RATE / FRAME
BURST_HZ = 1000.0
# Name-mangled private attribute of RTCRtpReceiver: what its RTCP receiver reports are made of.
STREAMS_ATTRIBUTE = "_RTCRtpReceiver__remote_streams"
# Every this many SRTP datagrams, a listener hands one to aiortc: enough for its receiver reports.
PASS_EVERY = 25


@asynccontextmanager
async def client_session() -> AsyncIterator[aiohttp.ClientSession]:
    """HTTP for hundreds of clients at once: no cap on connections, two minutes per call."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    ) as http:
        yield http


async def _call(http: aiohttp.ClientSession, method: str, url: str, token: str) -> Any:
    async with http.request(method, url, headers={"Authorization": f"Bearer {token}"}) as r:
        r.raise_for_status()
        return await r.json() if r.status != 204 else None


@dataclass
class Stage:
    """A live space with one unmuted speaker on stage, and tokens of listeners who joined it."""

    space_id: str
    speaker: str
    probe: str
    listeners: list[str]


async def live_stage(http: aiohttp.ClientSession, api: str, listeners: int, limit: int) -> Stage:
    names = ["host", "speaker", "probe", *(f"l{i}" for i in range(listeners))]
    host, speaker, probe, *others = await sign_up(http, api, names, limit)
    async with http.post(
        f"{api}/spaces", json={"title": "bench"}, headers={"Authorization": f"Bearer {host}"}
    ) as r:
        r.raise_for_status()
        space_id = str((await r.json())["id"])
    gate = asyncio.Semaphore(limit)

    async def join(token: str) -> None:
        async with gate:
            await _call(http, "POST", f"{api}/spaces/{space_id}/join", token)

    await asyncio.gather(*(join(t) for t in [speaker, probe, *others]))
    await _call(http, "POST", f"{api}/spaces/{space_id}/hand", speaker)
    await _call(http, "POST", f"{api}/spaces/{space_id}/speakers/speaker", host)
    await _call(http, "POST", f"{api}/spaces/{space_id}/unmute", speaker)
    return Stage(space_id, speaker, probe, others)


# -- clients -------------------------------------------------------------------------------


class Voice(PacedMicrophone):
    """A microphone: a 1 kHz tone, continuous or in bursts. Notes when the first frame of each
    burst is handed to aiortc's sender (which encodes it at once)."""

    def __init__(self, period_frames: int = 1, burst_frames: int = 1) -> None:
        super().__init__()
        self.period = period_frames
        self.burst = burst_frames
        self.onsets: list[float] = []  # time.monotonic() of each burst's first frame
        t = np.arange(FRAME * period_frames) / RATE
        self._wave = (0.25 * 32767 * np.sin(2 * np.pi * BURST_HZ * t)).astype(np.int16)
        self._wave[FRAME * burst_frames :] = 0

    def samples(self, index: int) -> np.ndarray:
        at = (index % self.period) * FRAME
        if self.period > 1 and at == 0:
            self.onsets.append(time.monotonic())
        return self._wave[at : at + FRAME]


@dataclass
class Counter:
    packets: int = 0
    bytes: int = 0


Handler = Callable[[RtpPacket, int], Awaitable[None]]


def _light_receiver(
    receiver: RTCRtpReceiver, counter: Counter, keep: list[tuple[float, bytes]] | None = None
) -> None:
    """Replace the receiver's packet handler: count (and maybe keep) packets, decode nothing.
    The statistics its RTCP receiver reports are made of are kept, so the server still hears
    from the listener (it drops connections that go quiet)."""
    streams: dict[int, StreamStatistics] = getattr(receiver, STREAMS_ATTRIBUTE)

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        if keep is not None:
            keep.append((time.monotonic(), packet.payload))
        counter.packets += 1
        counter.bytes += len(packet.payload)
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(RATE)
        stats.add(packet)

    receiver._handle_rtp_packet = handle  # type: ignore[method-assign]


def _count_datagrams(pc: RTCPeerConnection, counter: Counter) -> None:
    """Count the connection's incoming SRTP datagrams at its UDP socket, before aiortc: only
    every PASS_EVERY-th, and everything that is not RTP (STUN, DTLS, RTCP), goes on to aiortc."""
    connection = pc.getTransceivers()[0].receiver.transport.transport._connection
    for protocol in connection._protocols:
        original = protocol.datagram_received

        def received(data: bytes | str, addr: tuple[Any, ...], original: Any = original) -> None:
            if (
                isinstance(data, bytes)
                and len(data) > 12
                and 128 <= data[0] < 192
                and not is_rtcp(data)
            ):
                counter.packets += 1
                counter.bytes += len(data)
                if counter.packets % PASS_EVERY:
                    return
            original(data, addr)

        protocol.datagram_received = received  # type: ignore[method-assign]


def _record_sent(transceiver: RTCRtpTransceiver, sent: list[tuple[float, bytes]]) -> None:
    """Keep (time, payload) of every RTP packet the sender hands to its transport (which the
    sender's RTCP reports go through too)."""
    transport = transceiver.sender.transport
    original = transport._send_rtp

    async def send(data: bytes) -> None:
        await original(data)
        if not is_rtcp(data):
            sent.append((time.monotonic(), RtpPacket.parse(data).payload))

    transport._send_rtp = send  # type: ignore[method-assign]


@dataclass
class Peer:
    pc: RTCPeerConnection
    counter: Counter = field(default_factory=Counter)
    received: list[tuple[float, bytes]] | None = None
    sent: list[tuple[float, bytes]] | None = None


async def connect(
    http: aiohttp.ClientSession,
    api: str,
    space_id: str,
    token: str,
    *,
    voice: Voice | None = None,
    keep: bool = False,
    light: bool = False,
) -> Peer:
    """Offer (receive only, or send a voice and receive), POST it, apply the answer, wait until
    connected."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # loopback: no STUN
    peer = Peer(pc, received=[] if keep else None)
    if voice is None:
        transceiver = pc.addTransceiver("audio", direction="recvonly")
    else:
        pc.addTrack(voice)
        transceiver = pc.getTransceivers()[0]
        peer.sent = []
        _record_sent(transceiver, peer.sent)
    _light_receiver(transceiver.receiver, peer.counter, peer.received)
    connected = asyncio.Event()

    @pc.on("connectionstatechange")
    def _changed() -> None:
        if pc.connectionState in ("connected", "failed", "closed"):
            connected.set()

    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription
    async with http.post(
        f"{api}/spaces/{space_id}/media",
        json={"sdp": offer.sdp, "type": offer.type},
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        r.raise_for_status()
        answer = await r.json()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    await asyncio.wait_for(connected.wait(), 60)
    if pc.connectionState != "connected":
        raise RuntimeError(f"connection {pc.connectionState}")
    if light:
        _count_datagrams(pc, peer.counter)
    return peer
