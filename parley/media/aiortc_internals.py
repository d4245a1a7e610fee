"""Everything Parley uses of aiortc beyond its documented API, and a check that it is all there.

The media edge reaches into aiortc where its public API is too slow or too loose for a server:
the program is sent to every listener from one task (fanout.py), straight through each listener's
SRTP session and selected ICE pair when `direct_send_problems()` finds them (sendpath.py), inbound
audio skips the playout
buffer (ingress.py), packets are noted as signs of life and a listener's RTCP is thinned
(liveness.py), a connection mid-handshake
can be closed cleanly (connection.py), and offers are checked with aiortc's own SDP parser before
it negotiates them (offer.py). aiortc promises none of these names, so they are used here and
nowhere else, and `self_check()` runs at node start-up: an aiortc that no longer matches stops the
server with a message naming what changed, instead of breaking calls one by one. The range of
aiortc versions this was tested with is pinned in pyproject.toml (SUPPORTED_AIORTC).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, Protocol

import aiortc
from aioice import Connection as _IceConnection
from aiortc import (
    RTCCertificate,
    RTCDtlsTransport,
    RTCIceGatherer,
    RTCIceTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc import clock as _clock
from aiortc import rtcrtpsender as _rtcrtpsender
from aiortc import sdp as _sdp
from aiortc import utils as _utils
from aiortc.exceptions import OperationError as OperationError
from aiortc.jitterbuffer import JitterFrame as JitterFrame
from aiortc.rtcdtlstransport import State as _DtlsState
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import (
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
)
from aiortc.rtp import RtpPacket as RtpPacket
from aiortc.rtp import is_rtcp as _is_rtcp
from pylibsrtp import Error as SrtpError
from pylibsrtp import Session as SrtpSession

# The same range as the aiortc requirement in pyproject.toml (a test holds them equal).
SUPPORTED_AIORTC = ">=1.16,<1.17"

# Name-mangled private attributes: RTCRtpReceiver's jitter buffer, RTCRtpSender's sender-report
# figures, RTCPeerConnection's connecting coroutine.
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
_RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
_PACKET_COUNT = "_RTCRtpSender__packet_count"
_OCTET_COUNT = "_RTCRtpSender__octet_count"
_REPORT_FIGURES = (_NTP_TIMESTAMP, _RTP_TIMESTAMP, _PACKET_COUNT, _OCTET_COUNT)
# What the sender's last sender report said, and when it went: round-trip times refer to it.
_LAST_SR = "_RTCRtpSender__lsr"
_LAST_SR_TIME = "_RTCRtpSender__lsr_time"
# The sender's RTCP task: started and exited (stop() waits for both), and the CNAME it reports.
_RTCP_STARTED = "_RTCRtpSender__rtcp_started"
_RTCP_EXITED = "_RTCRtpSender__rtcp_exited"
_CNAME = "_RTCRtpSender__cname"
_CONNECT = "_RTCPeerConnection__connect"

_P = ParamSpec("_P")


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


# --- receiving without the playout buffer (ingress.py) ------------------------------------------


class FrameAssembler(Protocol):
    """What RTCRtpReceiver asks of its jitter buffer: (ask for a key frame?, a frame or None)."""

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]: ...


def payload_of(packet: RtpPacket) -> bytes:
    """The depayloaded frame the receiver attached to the packet; for Opus, that is its payload,
    which is also what a packet built by hand (the tests) carries."""
    data: bytes = getattr(packet, "_data", packet.payload)
    return data


def replace_jitter_buffer(receiver: RTCRtpReceiver, assembler: FrameAssembler) -> None:
    setattr(receiver, _JITTER_BUFFER, assembler)


def jitter_buffer(receiver: RTCRtpReceiver) -> object:
    return getattr(receiver, _JITTER_BUFFER)


def track_queue(receiver: RTCRtpReceiver) -> asyncio.Queue[Any]:
    """Where the receiver's decoder thread puts each decoded frame for its track to return."""
    queue: asyncio.Queue[Any] = getattr(receiver.track, "_queue")  # noqa: B009
    return queue


# --- packets as signs of life (liveness.py) -----------------------------------------------------


def on_packets_from_peer(transceiver: RTCRtpTransceiver, mark: Callable[[], None]) -> None:
    """Call `mark` before the transceiver handles each RTCP packet (a listener's receiver
    reports) and each RTP packet (a speaker's audio): RTCDtlsTransport calls these handlers."""
    sender, receiver = transceiver.sender, transceiver.receiver
    sender._handle_rtcp_packet = _noting(sender._handle_rtcp_packet, mark)  # type: ignore[method-assign]
    receiver._handle_rtp_packet = _noting(receiver._handle_rtp_packet, mark)  # type: ignore[method-assign]


def thin_rtcp(
    dtls: RTCDtlsTransport, mark: Callable[[], None], clock: Callable[[], float], every: float
) -> None:
    """Hand aiortc at most one of the peer's RTCP packets per `every` seconds; `mark` each of
    the others once SRTCP has authenticated it, and drop it there, as it arrives. Through aiortc
    each went from aioice's datagram handler through its queue to the DTLS transport's task,
    then was parsed, routed and added to the sender's statistics: with a receiver report every
    second or so from each listener, the largest per-listener cost after the program's send
    (docs/benchmarks.md). Those aiortc gets still mark through the sender's handler."""
    connection = dtls.transport._connection
    queue = connection.data_received
    last = -float("inf")

    def data_received(data: bytes, component: int) -> None:
        nonlocal last
        srtp = dtls._rx_srtp
        if srtp is not None and 127 < data[0] < 192 and _is_rtcp(data):
            now = clock()
            if now - last < every:
                try:
                    srtp.unprotect_rtcp(data)
                except SrtpError:
                    return  # not from the peer: no sign of life
                mark()
                return
            last = now
        queue(data, component)

    connection.data_received = data_received  # type: ignore[method-assign]


def answer_consent_only(connection: _IceConnection, on_consent: Callable[[], None]) -> None:
    """Stop asking the peer for consent (RFC 7675): aioice sends each connection a STUN request
    every 5 s and waits for the answer, a cost per listener that servers which only answer
    (ICE lite, as mediasoup and Janus run) do without. What the peer sends tells instead: its
    own consent requests, which call `on_consent` once authenticated, and its SRTCP and SRTP
    (liveness.py), and a connection with neither for a while is dropped (edge.py). Must run
    before ICE connects, which starts the asking."""

    async def ask_nothing() -> None:
        return None

    connection.query_consent = ask_nothing  # type: ignore[method-assign]
    asking = connection._query_consent_task
    if asking is not None:
        asking.cancel()
    check = connection.check_incoming

    def check_incoming(message: Any, addr: tuple[str, int], protocol: Any) -> None:
        on_consent()  # aioice calls this only for a request that authenticated
        check(message, addr, protocol)

    connection.check_incoming = check_incoming  # type: ignore[method-assign]


def _noting(
    handler: Callable[_P, Awaitable[None]], mark: Callable[[], None]
) -> Callable[_P, Coroutine[Any, Any, None]]:
    async def noted(*args: _P.args, **kwargs: _P.kwargs) -> None:
        mark()
        await handler(*args, **kwargs)

    return noted


# --- the connecting task (connection.py) ---------------------------------------------------------


class ConnectHookedPeerConnection(RTCPeerConnection):
    """An RTCPeerConnection whose connecting task (ICE, then DTLS, then RTP: the private
    __connect that setLocalDescription starts in a task of its own) runs through `connecting`."""

    async def _RTCPeerConnection__connect(self) -> None:
        await self.connecting(super()._RTCPeerConnection__connect)  # type: ignore[misc]

    async def connecting(self, connect: Callable[[], Awaitable[None]]) -> None:
        await connect()


# --- reading an offer (offer.py) -----------------------------------------------------------------


class UnparsableSdp(ValueError):
    """aiortc's SDP parser refused the text."""


@dataclass(frozen=True)
class OfferedMedia:
    """What an offer's media section says, as far as deciding whether to answer it goes."""

    kind: str
    ice_credentials: bool
    dtls_fingerprints: int
    rtcp_mux: bool
    codecs: tuple[str, ...]  # MIME types, lower case
    candidates: int


def parse_offer(text: str) -> tuple[OfferedMedia, ...]:
    try:
        description = _sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser fails with asserts, int() and index errors
        raise UnparsableSdp(str(exc)) from exc
    return tuple(
        OfferedMedia(
            kind=m.kind,
            ice_credentials=bool(m.ice and m.ice.usernameFragment and m.ice.password),
            dtls_fingerprints=len(m.dtls.fingerprints) if m.dtls else 0,
            rtcp_mux=m.rtcp_mux,
            codecs=tuple(c.mimeType.lower() for c in m.rtp.codecs),
            candidates=len(m.ice_candidates),
        )
        for m in description.media
    )


# --- the self-check -----------------------------------------------------------------------------


class AiortcMismatch(RuntimeError):
    """The installed aiortc lacks something Parley's media relies on."""


async def self_check() -> None:
    """Raise AiortcMismatch, naming each difference, unless the installed aiortc has every
    private name above with the shape it is used with."""
    problems = _method_problems() + await _object_problems() + _offer_problems()
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise AiortcMismatch(
            f"aiortc {aiortc.__version__} (at {Path(aiortc.__file__).parent}) no longer has what "
            f"Parley's media relies on:\n{listed}\nInstall aiortc{SUPPORTED_AIORTC} (the range "
            f"pinned in pyproject.toml), or adapt parley/media/aiortc_internals.py."
        )


# (owner, attribute, parameters it is called with, whether it must be a coroutine function)
_METHODS: tuple[tuple[object, str, tuple[str, ...], bool], ...] = (
    (_rtcrtpsender, "random_sequence_number", (), False),
    (_utils, "random32", (), False),
    (_clock, "current_ntp_time", (), False),
    (RTCRtpSender, "send", ("self", "parameters"), True),
    (RTCRtpSender, "_handle_rtcp_packet", ("self", "packet"), True),
    (RTCRtpSender, "_send_rtcp", ("self", "packets"), True),
    (RTCRtpSender, "_run_rtcp", ("self",), True),
    (RTCRtpReceiver, "_handle_rtp_packet", ("self", "packet", "arrival_time_ms"), True),
    (aiortc.RTCDtlsTransport, "_send_rtp", ("self", "data"), True),
    (_IceConnection, "data_received", ("self", "data", "component"), False),
    (_IceConnection, "query_consent", ("self",), True),
    (_IceConnection, "check_incoming", ("self", "message", "addr", "protocol"), False),
    (RTCPeerConnection, _CONNECT, ("self",), True),
    (HeaderExtensionsMap, "configure", ("self", "parameters"), False),
    (RtpPacket, "serialize", ("self", "extensions_map"), False),
)


def _method_problems() -> list[str]:
    problems = []
    for owner, name, parameters, coroutine in _METHODS:
        where = f"{getattr(owner, '__name__', owner)}.{name}"
        function = getattr(owner, name, None)
        if function is None or not callable(function):
            problems.append(f"{where} is missing")
        elif coroutine and not inspect.iscoroutinefunction(function):
            problems.append(f"{where} is no longer a coroutine function")
        elif not _takes(function, parameters):
            signature = inspect.signature(function)
            problems.append(f"{where}{signature} is not callable as ({', '.join(parameters)})")
    if not (isinstance(OperationError, type) and issubclass(OperationError, Exception)):
        problems.append("aiortc.exceptions.OperationError is not an exception")
    return problems


def _takes(function: Callable[..., object], parameters: tuple[str, ...]) -> bool:
    """Whether these are its first parameters, by name, and any others are optional."""
    listed = list(inspect.signature(function).parameters.values())
    if [p.name for p in listed[: len(parameters)]] != list(parameters):
        return False
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return all(p.default is not p.empty or p.kind in variadic for p in listed[len(parameters) :])


async def _object_problems() -> list[str]:
    """What only a live sender and receiver show: the attributes set in their __init__, and
    that a packet written here reads back as written. No socket is opened."""
    pc: RTCPeerConnection | None = None
    try:
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("audio")
        problems = _attribute_problems(transceiver.sender, ("_ssrc", *_REPORT_FIGURES), int)
        problems += [
            f"RTCRtpSender.{name} is missing"
            for name in (_LAST_SR, _LAST_SR_TIME, _CNAME)
            if not hasattr(transceiver.sender, name)
        ]
        problems += _attribute_problems(
            transceiver.sender, (_RTCP_STARTED, _RTCP_EXITED), asyncio.Event
        )
        problems += _call_problems()
        dtls = transceiver.sender.transport
        if not hasattr(dtls, "_rx_srtp"):
            problems.append("RTCDtlsTransport._rx_srtp is missing")
        connection = getattr(getattr(dtls, "transport", None), "_connection", None)
        if not isinstance(connection, _IceConnection):
            problems.append("RTCIceTransport._connection is not an aioice Connection")
        buffer = getattr(transceiver.receiver, _JITTER_BUFFER, None)
        if buffer is None or not _takes(buffer.add, ("packet",)):
            problems.append(f"RTCRtpReceiver.{_JITTER_BUFFER} has no add(packet)")
        # (A receiver gets its track from setRemoteDescription.)
        if not isinstance(getattr(RemoteStreamTrack("audio"), "_queue", None), asyncio.Queue):
            problems.append("RemoteStreamTrack._queue is not an asyncio.Queue")
        return problems or _writing_problems(transceiver.sender)
    except Exception as exc:
        return [f"checking a sender and receiver failed: {exc!r}"]
    finally:
        if pc is not None:
            await pc.close()


# What calls the methods replaced on an instance (report_every, answer_consent_only): each must
# still look them up on the instance.
_CALLS = (
    (RTCRtpSender.send, "self._run_rtcp()"),
    (_IceConnection.connect, "self.query_consent()"),
    (_IceConnection.request_received, "self.check_incoming(message, addr, protocol)"),
)


def _call_problems() -> list[str]:
    problems = [
        f"{function.__qualname__} no longer calls {call}"
        for function, call in _CALLS
        if call not in inspect.getsource(function)
    ]
    if not hasattr(_IceConnection(ice_controlling=False), "_query_consent_task"):
        problems.append("aioice Connection._query_consent_task is missing")
    return problems


def _attribute_problems(target: object, names: tuple[str, ...], kind: type) -> list[str]:
    return [
        f"{type(target).__name__}.{name} is missing or not {kind.__name__}"
        for name in names
        if not isinstance(getattr(target, name, None), kind)
    ]


def _writing_problems(sender: RTCRtpSender) -> list[str]:
    stream = OutboundRtp.starting(sender, _checking_parameters())
    if not 0 <= stream.sequence <= 0xFFFF or not 0 <= stream.timestamp_origin <= 0xFFFFFFFF:
        return [f"the first sequence number or timestamp is out of range: {stream}"]
    ntp = ntp_now()
    timestamp = stream.timestamp(960)
    read = RtpPacket.parse(stream.packet(b"\xfc\x01", timestamp, ntp), stream.extensions)
    wrote = (111, 1, stream.sequence, timestamp, sender._ssrc)
    got = (read.payload_type, read.marker, read.sequence_number, read.timestamp, read.ssrc)
    extensions = (read.extensions.mid, read.extensions.abs_send_time)
    if got != wrote or read.payload != b"\xfc\x01" or extensions != ("0", (ntp >> 14) & 0xFFFFFF):
        return [f"an RTP packet written as {wrote} reads back as {got}, {extensions}"]
    return []


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


_SAMPLE_OFFER = "\r\n".join(
    (
        "v=0",
        "o=- 1 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=mid:0",
        "a=rtcp-mux",
        "a=ice-ufrag:sElf",
        "a=ice-pwd:self-check-password-000000",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=sendrecv",
        "a=rtpmap:111 opus/48000/2",
        "a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host",
        "",
    )
)
_SAMPLE_READ = OfferedMedia(
    kind="audio",
    ice_credentials=True,
    dtls_fingerprints=1,
    rtcp_mux=True,
    codecs=("audio/opus",),
    candidates=1,
)


def _offer_problems() -> list[str]:
    try:
        read = parse_offer(_SAMPLE_OFFER)
    except Exception as exc:
        return [f"aiortc.sdp no longer reads a one-section Opus offer: {exc!r}"]
    if read != (_SAMPLE_READ,):
        return [f"aiortc.sdp reads a one-section Opus offer as {read}, not {_SAMPLE_READ}"]
    return []
