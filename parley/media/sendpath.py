"""The program packet to every listener, below aiortc's per-packet layers.

Through aiortc, each packet to each listener was an RtpPacket serialized with its extensions,
RTCDtlsTransport._send_rtp, aioice's Connection.send and StunProtocol.send_data, then a sendto:
about 30 µs of CPU each (docs/benchmarks.md). Here, per packet, aiortc writes the header once
for all listeners with the same negotiated layout; per listener only the sequence number,
timestamp and SSRC are patched in (each stream numbered from where aiortc chose to start it),
the listener's own SRTP session (from its DTLS handshake) protects it, and the datagram joins
the tick's batch, sent in one call from the socket of the listener's selected ICE pair
(datagrams.py). The sender's report figures follow each packet that goes, so aiortc's RTCP
sender reports stay true; receiver reports still reach aiortc's sender as before.

Every name this relies on is in aiortc_internals and checked by `direct_send_problems()`; if the
check fails the fan-out keeps sending through aiortc's transport, and says why once.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from aiortc import RTCRtpSender
from pylibsrtp import Error as SrtpError

from parley.media.aiortc_internals import (
    RTP_PATCH_OFFSET,
    OutboundRtp,
    Wire,
    direct_send_problems,
    header_template,
    ntp_now,
    unsend,
)
from parley.media.datagrams import Batch, Route
from parley.media.faster_path import FasterPath

log = logging.getLogger(__name__)

_PATCH = struct.Struct("!HII")  # sequence number, timestamp, SSRC
direct_path = FasterPath(log, "sending through aiortc's transport, not directly")


def direct_send_available() -> bool:
    """Whether the installed aiortc has what sending below it needs; logs why not, once."""
    return direct_path.usable(direct_send_problems())


@dataclass(eq=False)
class DirectListener:
    stream: OutboundRtp
    wire: Wire
    pair: object | None = None  # aioice's nominated pair the route was made for
    route: Route | None = None

    @classmethod
    def of(cls, stream: OutboundRtp) -> DirectListener:
        return cls(stream, Wire.of(stream.sender))

    @property
    def sender(self) -> RTCRtpSender:
        return self.stream.sender

    def current_route(self) -> Route | None:
        """Where its packets go now; None while ICE has no nominated pair."""
        pair = self.wire.pair()
        if pair is None:
            return None
        if pair is not self.pair:  # first packet, or ICE nominated another pair
            selected = Wire.selected(pair)
            self.pair, self.route = pair, Route.of(selected.transport, selected.remote)
        return self.route


class DirectSend:
    """Sends one packet of the program to each listener, in one batch."""

    def __init__(self, *, sendmmsg: bool | None = None) -> None:
        self._batch = Batch(sendmmsg=sendmmsg)
        self._listeners: dict[DirectListener, None] = {}
        self.sent = 0  # datagrams handed to the kernel
        self.dropped = 0  # datagrams protected but not sent (a full socket buffer)

    @property
    def sendmmsg(self) -> bool:
        return self._batch.sendmmsg

    def add(self, listener: DirectListener) -> None:
        self._listeners[listener] = None

    def discard(self, listener: DirectListener) -> None:
        self._listeners.pop(listener, None)

    def close(self) -> None:
        self._listeners.clear()

    def sync(self, listener: DirectListener) -> None:
        """Nothing to hand over: the sender's figures follow each packet sent from here."""

    def send_program(self, payload: bytes, rtp_time: int) -> None:
        """The packet to every listener added."""
        self.send(self._listeners, payload, rtp_time)

    def send(self, listeners: Iterable[DirectListener], payload: bytes, rtp_time: int) -> None:
        ntp_time = ntp_now()
        octets = len(payload)
        templates: dict[tuple[object, ...], bytearray] = {}
        batch = self._batch
        batched: list[OutboundRtp] = []
        for listener in listeners:
            srtp = listener.wire.srtp()
            route = listener.current_route() if srtp is not None else None
            if srtp is None or route is None:
                continue  # connecting, or closing: its room drops it
            stream = listener.stream
            template = templates.get(stream.layout)
            if template is None:
                template = templates[stream.layout] = header_template(stream, payload, ntp_time)
            timestamp = (stream.timestamp_origin + rtp_time) & 0xFFFFFFFF
            _PATCH.pack_into(template, RTP_PATCH_OFFSET, stream.sequence, timestamp, stream.ssrc)
            try:
                data = srtp.protect(bytes(template))
            except SrtpError as exc:
                log.warning("SRTP refused a packet for %s: %s", stream.ssrc, exc)
                continue
            stream.sequence = (stream.sequence + 1) & 0xFFFF
            stream.sent(octets, timestamp, ntp_time)
            batch.add(route, data)
            batched.append(stream)
        failed = batch.send()
        for index in failed:
            unsend(batched[index], octets)
        self.sent += len(batched) - len(failed)
        self.dropped += len(failed)
