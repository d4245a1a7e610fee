"""What comes from the peer: audio without the playout buffer (ingress.py), packets and consent
requests as signs of life (liveness.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, Protocol

from aioice import Connection as _IceConnection
from aiortc import (
    RTCDtlsTransport,
    RTCRtpReceiver,
    RTCRtpTransceiver,
)
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.rtp import is_rtcp as _is_rtcp
from pylibsrtp import Error as SrtpError

from parley.media.aiortc_internals._names import _JITTER_BUFFER

_P = ParamSpec("_P")


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
    connection = ice_connection(dtls)
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


def ice_connection(dtls: RTCDtlsTransport) -> _IceConnection:
    """The aioice connection under a DTLS transport (aiortc keeps it private)."""
    connection: _IceConnection = dtls.transport._connection
    return connection


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
