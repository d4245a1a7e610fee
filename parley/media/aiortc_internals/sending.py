"""Sending RTP and RTCP for aiortc's senders from outside their own tasks (fanout.py,
sendpath.py, native_send.py)."""

from __future__ import annotations

import asyncio
import functools
import random
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiortc import (
    RTCCertificate,
    RTCDtlsTransport,
    RTCIceGatherer,
    RTCIceTransport,
    RTCRtpSender,
)
from aiortc import clock as _clock
from aiortc import rtcrtpsender as _rtcrtpsender
from aiortc import utils as _utils
from aiortc.rtcdtlstransport import State as _DtlsState
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import (
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
)
from pylibsrtp import Session as SrtpSession

from parley.media.aiortc_internals._names import (
    _CNAME,
    _LAST_SR,
    _LAST_SR_TIME,
    _NTP_TIMESTAMP,
    _OCTET_COUNT,
    _PACKET_COUNT,
    _RTCP_EXITED,
    _RTCP_STARTED,
    _RTP_TIMESTAMP,
)

# --- sending RTP for a sender whose own task sends nothing (fanout.py) ---------------------------


def ntp_now() -> int:
    """The time in the 64-bit NTP format aiortc stamps its packets and sender reports with."""
    return _clock.current_ntp_time()


@dataclass(eq=False)
class OutboundRtp:
    """One sender's RTP stream, written here rather than by the sender's own task."""

    sender: RTCRtpSender
    payload_type: int
    mid: str | None
    extensions: HeaderExtensionsMap
    ssrc: int
    sequence: int
    timestamp_origin: int
    # What the header of its packets depends on besides SSRC, sequence number and timestamp:
    # streams with the same layout can share one header per packet (sendpath.py).
    layout: tuple[object, ...]
    packets: int = 0
    octets: int = 0

    @classmethod
    def starting(cls, sender: RTCRtpSender, parameters: RTCRtpSendParameters) -> OutboundRtp:
        """The stream as aiortc's sender task would start it: its SSRC, and a sequence number
        and timestamp from aiortc's own random choice (sequence numbers in the lower half, so
        that no browser sees them wrap before its SRTP context has settled)."""
        extensions = HeaderExtensionsMap()
        extensions.configure(parameters)
        payload_type = parameters.codecs[0].payloadType
        assert payload_type is not None, "negotiated codecs have a payload type"
        return cls(
            sender=sender,
            payload_type=payload_type,
            mid=parameters.muxId,
            extensions=extensions,
            ssrc=sender._ssrc,
            sequence=_rtcrtpsender.random_sequence_number(),
            timestamp_origin=_utils.random32(),
            layout=(
                payload_type,
                parameters.muxId,
                tuple((e.uri, e.id) for e in parameters.headerExtensions),
            ),
        )

    def timestamp(self, rtp_time: int) -> int:
        return (self.timestamp_origin + rtp_time) & 0xFFFFFFFF

    def packet(self, payload: bytes, timestamp: int, ntp_time: int) -> bytes:
        """The next packet of the stream, serialized, carrying one whole encoded frame."""
        packet = RtpPacket(
            payload_type=self.payload_type,
            marker=1,
            sequence_number=self.sequence,
            timestamp=timestamp,
            ssrc=self.ssrc,
            payload=payload,
        )
        packet.extensions.abs_send_time = (ntp_time >> 14) & 0x00FFFFFF
        packet.extensions.mid = self.mid
        return packet.serialize(self.extensions)

    async def send(self, payload: bytes, rtp_time: int, ntp_time: int) -> None:
        """Protect and send the next packet; ConnectionError once the connection is closing.
        The sender's report figures follow, so its RTCP sender reports stay true."""
        timestamp = self.timestamp(rtp_time)
        await self.sender.transport._send_rtp(self.packet(payload, timestamp, ntp_time))
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.sent(len(payload), timestamp, ntp_time)

    def sent(self, octets: int, timestamp: int, ntp_time: int) -> None:
        """A packet of the stream went out: the figures of the sender's next report follow."""
        self.packets += 1
        self.octets += octets
        sender = self.sender
        setattr(sender, _NTP_TIMESTAMP, ntp_time)
        setattr(sender, _RTP_TIMESTAMP, timestamp)
        setattr(sender, _PACKET_COUNT, self.packets)
        setattr(sender, _OCTET_COUNT, self.octets)

    def reported(self, packets: int, octets: int, timestamp: int, ntp_time: int) -> None:
        """The stream's figures as kept elsewhere (the C fan-out): the sender's next report
        carries them. `timestamp` and `ntp_time` are those of the last packet that went."""
        self.packets, self.octets = packets, octets
        sender = self.sender
        if packets:
            setattr(sender, _NTP_TIMESTAMP, ntp_time)
            setattr(sender, _RTP_TIMESTAMP, timestamp)
        setattr(sender, _PACKET_COUNT, packets)
        setattr(sender, _OCTET_COUNT, octets)


def report_every(
    sender: RTCRtpSender,
    every: float,
    before_report: Callable[[], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Give the sender, before aiortc starts it, an RTCP task that sends a sender report every
    `every` seconds (randomized between half and one and a half times that, the first after
    half as long, as RFC 3550 asks) instead of aiortc's every 0.5 to 1.5 s: libwebrtc's default
    for audio is 5 s, and aiortc's task woke and built a report per listener per second.
    `before_report` runs just before each report is built (the C fan-out hands over its figures
    then). Like aiortc's task, it notes what round-trip times refer to, and sends a BYE when the
    sender stops."""

    async def run_rtcp() -> None:
        getattr(sender, _RTCP_STARTED).set()
        interval = every / 2
        try:
            while True:
                await sleep(interval * (0.5 + random.random()))
                interval = every
                before_report()
                await sender._send_rtcp(_sender_report(sender))
        except asyncio.CancelledError:
            pass
        finally:
            # Even if a report failed: sender.stop() waits for this.
            try:
                await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
            finally:
                getattr(sender, _RTCP_EXITED).set()

    # send() starts the task with self._run_rtcp(): an attribute of the instance comes first.
    sender._run_rtcp = run_rtcp  # type: ignore[method-assign]


def _sender_report(sender: RTCRtpSender) -> list[Any]:
    """A sender report and the SDES naming the sender, as aiortc's own task makes them."""
    ntp_time: int = getattr(sender, _NTP_TIMESTAMP)
    report: list[Any] = [
        RtcpSrPacket(
            ssrc=sender._ssrc,
            sender_info=RtcpSenderInfo(
                ntp_timestamp=ntp_time,
                rtp_timestamp=getattr(sender, _RTP_TIMESTAMP),
                packet_count=getattr(sender, _PACKET_COUNT) & 0xFFFFFFFF,
                octet_count=getattr(sender, _OCTET_COUNT) & 0xFFFFFFFF,
            ),
        )
    ]
    # The peer's receiver reports name this report by the middle of its NTP time.
    setattr(sender, _LAST_SR, (ntp_time >> 16) & 0xFFFFFFFF)
    # Wall-clock time, not the node's clock: aiortc's own handler subtracts it from time.time().
    setattr(sender, _LAST_SR_TIME, time.time())
    cname: str | None = getattr(sender, _CNAME)
    if cname is not None:
        item = RtcpSourceInfo(ssrc=sender._ssrc, items=[(1, cname.encode("utf8"))])
        report.append(RtcpSdesPacket(chunks=[item]))
    return report


def unsend(stream: OutboundRtp, octets: int) -> None:
    """A packet counted as sent could not be sent after all (a full socket buffer)."""
    stream.packets -= 1
    stream.octets -= octets
    setattr(stream.sender, _PACKET_COUNT, stream.packets)
    setattr(stream.sender, _OCTET_COUNT, stream.octets)


def on_send(sender: RTCRtpSender, started: Callable[[OutboundRtp], None]) -> None:
    """Call `started` with the sender's stream once the connection starts it (aiortc calls the
    sender's send() with the negotiated parameters when DTLS is up)."""
    start = sender.send

    async def send(parameters: RTCRtpSendParameters) -> None:
        await start(parameters)
        started(OutboundRtp.starting(sender, parameters))

    sender.send = send  # type: ignore[method-assign]


def reported_packets(sender: RTCRtpSender) -> int:
    """The packet count the sender's next RTCP sender report will carry."""
    count: int = getattr(sender, _PACKET_COUNT)
    return count


# --- below the sender: its SRTP session and the selected ICE pair (sendpath.py) ------------------

# Where the sequence number, timestamp and SSRC sit in an RTP header (RFC 3550, no CSRC).
RTP_PATCH_OFFSET = 2


@dataclass(frozen=True)
class SelectedPair:
    """The nominated ICE pair: the datagram transport of its local candidate (a UDP socket, or
    a TURN allocation) and the remote address. `pair` is aioice's own, kept to notice a change."""

    pair: object
    transport: asyncio.DatagramTransport
    remote: tuple[str, int]


@dataclass(eq=False)
class Wire:
    """A sender's connection below aiortc: its DTLS transport's SRTP session and ICE pairs."""

    dtls: RTCDtlsTransport
    nominated: dict[int, Any]  # aioice Connection: component -> nominated CandidatePair

    @classmethod
    def of(cls, sender: RTCRtpSender) -> Wire:
        dtls = sender.transport
        return cls(dtls, dtls.transport._connection._nominated)

    def srtp(self) -> SrtpSession | None:
        """The session that protects what goes to the peer; None unless DTLS is connected."""
        return self.dtls._tx_srtp if self.dtls._state is _DtlsState.CONNECTED else None

    def pair(self) -> object | None:
        """The nominated pair of the one component (aiortc always muxes RTCP with RTP)."""
        return self.nominated.get(1)

    @staticmethod
    def selected(pair: Any) -> SelectedPair:
        return SelectedPair(pair, pair.protocol.transport, pair.remote_addr)


def header_template(stream: OutboundRtp, payload: bytes, ntp_time: int) -> bytearray:
    """A packet of the stream's layout, written once by aiortc, with sequence number, timestamp
    and SSRC zero: each listener's go at RTP_PATCH_OFFSET (sendpath.py)."""
    packet = RtpPacket(payload_type=stream.payload_type, marker=1, payload=payload)
    packet.extensions.abs_send_time = (ntp_time >> 14) & 0x00FFFFFF
    packet.extensions.mid = stream.mid
    return bytearray(packet.serialize(stream.extensions))


@functools.cache
def direct_send_problems() -> tuple[str, ...]:
    """Why the fan-out cannot send below aiortc's sender (empty: it can). Unlike self_check(),
    a mismatch here only costs speed: the fan-out then sends through RTCDtlsTransport."""
    try:
        gatherer = RTCIceGatherer()
        dtls = RTCDtlsTransport(RTCIceTransport(gatherer), [RTCCertificate.generateCertificate()])
        if not isinstance(getattr(gatherer._connection, "_nominated", None), dict):
            return ("aioice Connection._nominated is not a dict",)
        problems = [
            f"RTCDtlsTransport.{name} is missing"
            for name in ("_state", "_tx_srtp")
            if not hasattr(dtls, name)
        ]
        if not isinstance(getattr(_DtlsState, "CONNECTED", None), _DtlsState):
            problems.append("aiortc.rtcdtlstransport.State.CONNECTED is missing")
        pair_class = type(gatherer._connection).__module__
        from aioice.ice import CandidatePair  # aiortc's ICE; imported here to check it

        if not isinstance(getattr(CandidatePair, "remote_addr", None), property):
            problems.append(f"{pair_class}.CandidatePair.remote_addr is not a property")
        if not callable(getattr(SrtpSession, "protect", None)):
            problems.append("pylibsrtp.Session has no protect()")
        return tuple(problems) or _patching_problems(RTCRtpSender("audio", dtls))
    except Exception as exc:
        return (f"checking the DTLS and ICE transports failed: {exc!r}",)


def _patching_problems(sender: RTCRtpSender) -> tuple[str, ...]:
    stream = OutboundRtp.starting(sender, _checking_parameters())
    ntp, timestamp = ntp_now(), stream.timestamp(960)
    template = header_template(stream, b"\xfc\x01", ntp)
    struct.pack_into("!HII", template, RTP_PATCH_OFFSET, stream.sequence, timestamp, stream.ssrc)
    if bytes(template) != stream.packet(b"\xfc\x01", timestamp, ntp):
        return ("an RTP header patched after aiortc wrote it differs from aiortc's own",)
    return ()


def _checking_parameters() -> RTCRtpSendParameters:
    return RTCRtpSendParameters(
        codecs=[RTCRtpCodecParameters("audio/opus", 48_000, 2, payloadType=111)],
        headerExtensions=[
            RTCRtpHeaderExtensionParameters(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
            RTCRtpHeaderExtensionParameters(
                2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
            ),
        ],
        muxId="0",
        rtcp=RTCRtcpParameters(),
    )
