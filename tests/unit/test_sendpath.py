"""Sending below aiortc's sender (media/sendpath.py): the check that the installed aiortc still
has what it needs, names what changed, and makes the fan-out fall back to aiortc's transport
(saying why, once); a listener's packets are aiortc's own header with its sequence number,
timestamp and SSRC, SRTP-protected so that its peer's session opens them, and the sender's
report figures count exactly what went, not what could not."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from fractions import Fraction
from typing import Any, cast

import pytest
from aioice.ice import CandidatePair
from aiortc import (
    MediaStreamError,
    MediaStreamTrack,
    RTCDtlsTransport,
    RTCPeerConnection,
    RTCRtpSender,
)
from av.packet import Packet
from pylibsrtp import Policy, Session

from parley.media import aiortc_internals, sendpath
from parley.media.aiortc_internals import (
    OutboundRtp,
    RtpPacket,
    Wire,
    direct_send_problems,
    reported_packets,
)
from parley.media.fanout import ProgramFanout
from parley.media.sendpath import DirectListener, DirectSend
from tests.support.rtp import OPUS
from tests.support.wires import FakePair, FakeWire, Inbox


@pytest.fixture(autouse=True)
def fresh_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sendpath.direct_path, "warned", False)
    direct_send_problems.cache_clear()
    yield
    direct_send_problems.cache_clear()


async def test_the_installed_aiortc_has_what_the_direct_path_needs() -> None:
    assert direct_send_problems() == ()


def _without_srtp_session(monkeypatch: pytest.MonkeyPatch) -> None:
    built = RTCDtlsTransport.__init__

    def init(self: RTCDtlsTransport, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        del self._tx_srtp

    monkeypatch.setattr(RTCDtlsTransport, "__init__", init)


BREAKAGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "the ICE pair's remote address gone": (
        lambda mp: mp.setattr(CandidatePair, "remote_addr", None),
        "CandidatePair.remote_addr is not a property",
    ),
    "the SRTP session kept elsewhere": (
        lambda mp: _without_srtp_session(mp),
        "RTCDtlsTransport._tx_srtp is missing",
    ),
    "the RTP header laid out differently": (
        lambda mp: mp.setattr(aiortc_internals.sending, "RTP_PATCH_OFFSET", 4),
        "differs from aiortc's own",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
async def test_a_changed_aiortc_fails_the_check_naming_the_change(
    monkeypatch: pytest.MonkeyPatch, breakage: str
) -> None:
    breaking, named = BREAKAGES[breakage]
    breaking(monkeypatch)
    assert any(named in problem for problem in direct_send_problems())


def _program() -> MediaStreamTrack:
    raise AssertionError("not read in this test")


async def test_the_fan_out_falls_back_to_aiortcs_transport_and_says_why_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="parley.media.sendpath")
    assert ProgramFanout(_program).direct is not None
    monkeypatch.setattr(CandidatePair, "remote_addr", None)
    direct_send_problems.cache_clear()
    assert ProgramFanout(_program).direct is None
    assert ProgramFanout(_program).direct is None
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "sending through aiortc's transport" in warnings[0]
    assert "CandidatePair.remote_addr is not a property" in warnings[0]


KEY = os.urandom(30)


@pytest.fixture
async def wire() -> AsyncIterator[tuple[asyncio.DatagramTransport, Inbox, tuple[str, int]]]:
    loop = asyncio.get_running_loop()
    out, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    into, inbox = await loop.create_datagram_endpoint(Inbox, local_addr=("127.0.0.1", 0))
    yield out, inbox, into.get_extra_info("sockname")
    out.close()
    into.close()


@pytest.fixture
async def senders() -> AsyncIterator[list[RTCRtpSender]]:
    pc = RTCPeerConnection()
    yield [pc.addTransceiver("audio", direction="sendonly").sender for _ in range(2)]
    await pc.close()


@pytest.mark.parametrize("sendmmsg", [True, False], ids=["sendmmsg", "sendto"])
async def test_each_listener_gets_its_own_stream_protected_for_its_own_peer(
    wire: Any, senders: list[RTCRtpSender], sendmmsg: bool
) -> None:
    out, inbox, to = wire
    listeners = []
    for sender in senders:
        listener = DirectListener(OutboundRtp.starting(sender, OPUS), Wire.of(sender))
        listener.wire = cast(Wire, FakeWire(FakePair(out, to), KEY))
        listeners.append(listener)
    opened = {each.stream.ssrc: Session(Policy(KEY, Policy.SSRC_ANY_INBOUND)) for each in listeners}
    first = {
        each.stream.ssrc: (each.stream.sequence, each.stream.timestamp_origin) for each in listeners
    }
    direct = DirectSend(sendmmsg=sendmmsg)
    for tick in range(3):
        direct.send(listeners, b"\xfc" + bytes([tick]) * 40, 960 * tick)
    got: dict[int, list[RtpPacket]] = {}
    for _ in range(6):
        data = await asyncio.wait_for(inbox.got.get(), 5)
        ssrc = int.from_bytes(data[8:12], "big")
        packet = RtpPacket.parse(opened[ssrc].unprotect(data), listeners[0].stream.extensions)
        got.setdefault(ssrc, []).append(packet)
    for listener in listeners:
        packets, (sequence, origin) = got[listener.stream.ssrc], first[listener.stream.ssrc]
        assert [p.sequence_number for p in packets] == [(sequence + i) & 0xFFFF for i in range(3)]
        assert [p.timestamp for p in packets] == [(origin + 960 * i) & 0xFFFFFFFF for i in range(3)]
        assert [p.payload for p in packets] == [b"\xfc" + bytes([i]) * 40 for i in range(3)]
        assert {(p.payload_type, p.marker, p.extensions.mid) for p in packets} == {(111, 1, "0")}
        assert reported_packets(listener.sender) == 3
    assert (direct.sent, direct.dropped) == (6, 0)


async def test_a_packet_that_could_not_go_is_not_reported_as_sent(
    wire: Any, senders: list[RTCRtpSender]
) -> None:
    out, _, to = wire
    listener = DirectListener(OutboundRtp.starting(senders[0], OPUS), Wire.of(senders[0]))
    listener.wire = cast(Wire, FakeWire(FakePair(out, to), KEY))
    direct = DirectSend()
    direct.send([listener], b"\xfc\x01", 0)
    out.close()  # the socket goes away between two ticks
    await asyncio.sleep(0)
    direct.send([listener], b"\xfc\x02", 960)
    assert reported_packets(listener.sender) == 1
    assert listener.stream.octets == 2
    assert (direct.sent, direct.dropped) == (1, 1)


async def test_a_listener_without_a_nominated_pair_is_skipped(senders: list[RTCRtpSender]) -> None:
    listener = DirectListener(OutboundRtp.starting(senders[0], OPUS), Wire.of(senders[0]))
    direct = DirectSend()
    direct.send([listener], b"\xfc\x01", 0)  # the real wire: DTLS not connected
    listener.wire = cast(Wire, FakeWire(None, KEY))
    direct.send([listener], b"\xfc\x01", 0)
    assert reported_packets(listener.sender) == 0
    assert (direct.sent, direct.dropped) == (0, 0)


class Program(MediaStreamTrack):
    """Three packets of the program, then the end of it."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.left = 3

    async def recv(self) -> Packet[Any]:
        if not self.left:
            raise MediaStreamError
        self.left -= 1
        packet = Packet(b"\xfc\x01")
        packet.pts, packet.time_base = 960 * (3 - self.left), Fraction(1, 48_000)
        return packet


async def test_a_packet_that_fails_to_send_does_not_stop_the_fan_out(
    senders: list[RTCRtpSender], caplog: pytest.LogCaptureFixture
) -> None:
    fanout = ProgramFanout(Program)
    assert fanout.direct is not None
    sent: list[int] = []

    def send(payload: bytes, rtp_time: int) -> None:
        sent.append(rtp_time)
        if len(sent) == 1:
            raise RuntimeError("a bug on the first packet")

    fanout.direct.send_program = send  # type: ignore[method-assign]
    fanout.attach(senders[0])
    await senders[0].send(OPUS)  # what aiortc calls once DTLS is up: the fan-out starts
    await asyncio.wait_for(_until(lambda: len(sent) == 3), 5)
    await fanout.close()
    assert sent == [960, 1920, 2880]
    assert "sending a packet failed" in caplog.text


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)
