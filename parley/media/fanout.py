"""Sending the program to every listener in one loop per packet.

aiortc gives each sender a task that wakes for every packet, reads it from its track, packs it,
builds an RTP packet and sends it: with hundreds of listeners those wake-ups and objects were
about half of the server's time (docs/benchmarks.md). Here one task reads the program once per
packet and, for each listener, writes the RTP header (its own SSRC, sequence number and
timestamp), protects it with the listener's SRTP session and sends it. aiortc still negotiates
the connection and sends the RTCP reports; its sender task is parked on a track that never
yields, so it costs nothing until the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from aiortc import MediaStreamTrack, RTCRtpSender, clock, rtp
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import RtpPacket
from aiortc.utils import random16, random32, uint16_add, uint32_add
from av.packet import Packet

log = logging.getLogger(__name__)

RTP_CLOCK = 48_000

# aiortc keeps the figures of its sender reports in these (name-mangled) attributes; keeping them
# current keeps the reports true although aiortc's own loop sends nothing.
_STATS = "_RTCRtpSender__"


class ParkedTrack(MediaStreamTrack):
    """What aiortc's own sender loop waits on: nothing, until it is stopped."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._stopped = asyncio.Event()

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


@dataclass(eq=False)
class Listener:
    sender: RTCRtpSender
    payload_type: int
    mid: str | None
    extensions: rtp.HeaderExtensionsMap
    sequence: int
    timestamp_origin: int
    packets: int = 0
    octets: int = 0


class ProgramFanout:
    """The listeners of one room, and the one task that sends them the program."""

    def __init__(self, program_track: Callable[[], MediaStreamTrack]) -> None:
        self._program_track = program_track
        self._listeners: dict[RTCRtpSender, Listener] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._listeners)

    def attach(self, sender: RTCRtpSender) -> None:
        """Take over sending for this sender once aiortc starts it (the connection is up)."""
        sender.replaceTrack(ParkedTrack())
        start = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            await start(parameters)
            extensions = rtp.HeaderExtensionsMap()
            extensions.configure(parameters)
            payload_type = parameters.codecs[0].payloadType
            assert payload_type is not None, "negotiated codecs have a payload type"
            self._listeners[sender] = Listener(
                sender=sender,
                payload_type=payload_type,
                mid=parameters.muxId,
                extensions=extensions,
                sequence=random16(),
                timestamp_origin=random32(),
            )
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="program-fanout")

        sender.send = send  # type: ignore[method-assign]

    def detach(self, sender: RTCRtpSender) -> None:
        self._listeners.pop(sender, None)

    async def close(self) -> None:
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        track = self._program_track()
        try:
            while True:
                packet = await track.recv()
                assert isinstance(packet, Packet)
                await self._send_all(bytes(packet), _rtp_time(packet.pts, packet.time_base))
        except MediaStreamError:
            pass
        finally:
            track.stop()

    async def _send_all(self, payload: bytes, rtp_time: int) -> None:
        ntp_time = clock.current_ntp_time()
        abs_send_time = (ntp_time >> 14) & 0x00FFFFFF
        for listener in list(self._listeners.values()):
            packet = RtpPacket(
                payload_type=listener.payload_type,
                marker=1,
                sequence_number=listener.sequence,
                timestamp=uint32_add(listener.timestamp_origin, rtp_time),
                ssrc=listener.sender._ssrc,
                payload=payload,
            )
            packet.extensions.abs_send_time = abs_send_time
            packet.extensions.mid = listener.mid
            try:
                await listener.sender.transport._send_rtp(packet.serialize(listener.extensions))
            except ConnectionError:
                continue  # closing: its room drops it
            listener.sequence = uint16_add(listener.sequence, 1)
            listener.packets += 1
            listener.octets += len(payload)
            sender = listener.sender
            setattr(sender, f"{_STATS}ntp_timestamp", ntp_time)
            setattr(sender, f"{_STATS}rtp_timestamp", packet.timestamp)
            setattr(sender, f"{_STATS}packet_count", listener.packets)
            setattr(sender, f"{_STATS}octet_count", listener.octets)


def _rtp_time(pts: int | None, time_base: Fraction | None) -> int:
    if pts is None or time_base is None:
        return 0
    return int(pts * time_base * RTP_CLOCK)
