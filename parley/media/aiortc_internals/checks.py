"""The start-up check that the installed aiortc still has every private name the package uses."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path

import aiortc
from aioice import Connection as _IceConnection
from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc import clock as _clock
from aiortc import rtcrtpsender as _rtcrtpsender
from aiortc import utils as _utils
from aiortc.exceptions import OperationError
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from parley.media.aiortc_internals._names import (
    _CNAME,
    _CONNECT,
    _JITTER_BUFFER,
    _LAST_SR,
    _LAST_SR_TIME,
    _REPORT_FIGURES,
    _RTCP_EXITED,
    _RTCP_STARTED,
)
from parley.media.aiortc_internals.connecting import OfferedMedia, parse_offer
from parley.media.aiortc_internals.sending import (
    OutboundRtp,
    _checking_parameters,
    ntp_now,
)

# The same range as the aiortc requirement in pyproject.toml (a test holds them equal).
SUPPORTED_AIORTC = ">=1.16,<1.17"


class AiortcMismatch(RuntimeError):
    """The installed aiortc lacks something Parley's media relies on."""


async def self_check() -> None:
    """Raise AiortcMismatch, naming each difference, unless the installed aiortc has every
    private name this package uses, with the shape it is used with."""
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
    sends=True,
)


def _offer_problems() -> list[str]:
    try:
        read = parse_offer(_SAMPLE_OFFER)
    except Exception as exc:
        return [f"aiortc.sdp no longer reads a one-section Opus offer: {exc!r}"]
    if read != (_SAMPLE_READ,):
        return [f"aiortc.sdp reads a one-section Opus offer as {read}, not {_SAMPLE_READ}"]
    return []
