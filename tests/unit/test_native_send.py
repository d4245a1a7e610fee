"""The program through the C fan-out (media/native_send.py, media/_fanout.c): the datagrams are
byte for byte those of the Python path (same key, numbering and time), each listener's stream
stays one unbroken sequence when its ICE pair changes, the sender-report figures reach aiortc,
a listener whose socket closed is no longer sent to, and a pylibsrtp that no longer matches
makes the fan-out send from Python, saying why once."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from pylibsrtp import Policy, Session

from parley.media import native_send, sendpath, srtp_internals
from parley.media.aiortc_internals import (
    OutboundRtp,
    RtpPacket,
    Wire,
    reported_packets,
)
from parley.media.fanout import ProgramFanout
from parley.media.native_send import NativeSend
from parley.media.sendpath import DirectListener, DirectSend
from tests.support.rtp import OPUS
from tests.support.wires import FakePair, FakeWire, Inbox

KEY = os.urandom(30)
NTP = 0xE6A1_2345_6789_ABCD


@pytest.fixture(autouse=True)
def fresh_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(native_send.native_path, "warned", False)
    srtp_internals.native_send_problems.cache_clear()
    # One NTP time for both paths, so that their abs-send-time extensions are equal.
    monkeypatch.setattr(native_send, "ntp_now", lambda: NTP)
    monkeypatch.setattr(sendpath, "ntp_now", lambda: NTP)
    yield
    srtp_internals.native_send_problems.cache_clear()


@pytest.fixture
async def senders() -> AsyncIterator[list[RTCRtpSender]]:
    pc = RTCPeerConnection()
    yield [pc.addTransceiver("audio", direction="sendonly").sender for _ in range(3)]
    await pc.close()


Endpoint = tuple[asyncio.DatagramTransport, Inbox, tuple[str, int]]


async def _endpoint() -> Endpoint:
    """A socket to send from, and one to receive on (and its address)."""
    loop = asyncio.get_running_loop()
    out, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    into, inbox = await loop.create_datagram_endpoint(Inbox, local_addr=("127.0.0.1", 0))
    return out, inbox, into.get_extra_info("sockname")


def _listener(sender: RTCRtpSender, out: asyncio.DatagramTransport, to: Any) -> DirectListener:
    listener = DirectListener(OutboundRtp.starting(sender, OPUS), Wire.of(sender))
    listener.wire = cast(Wire, FakeWire(FakePair(out, to), KEY))
    return listener


async def _received(inbox: Inbox, count: int) -> list[bytes]:
    return [await asyncio.wait_for(inbox.got.get(), 5) for _ in range(count)]


def _opened(datagrams: list[bytes], extensions: Any) -> list[RtpPacket]:
    session = Session(Policy(KEY, Policy.SSRC_ANY_INBOUND))
    return [RtpPacket.parse(session.unprotect(d), extensions) for d in datagrams]


async def test_the_c_loop_is_built_and_agrees_with_pylibsrtp() -> None:
    assert srtp_internals.native_send_problems() == ()


async def test_the_c_loop_sends_the_datagrams_the_python_path_sends(
    senders: list[RTCRtpSender],
) -> None:
    (py_out, py_inbox, py_to), (c_out, c_inbox, c_to) = await _endpoint(), await _endpoint()
    by_python, by_c = _listener(senders[0], py_out, py_to), _listener(senders[1], c_out, c_to)
    # The same stream for both: SSRC, first sequence number (near the wrap) and timestamp.
    for field in ("ssrc", "timestamp_origin"):
        setattr(by_c.stream, field, getattr(by_python.stream, field))
    by_python.stream.sequence = by_c.stream.sequence = 0xFFFE
    python, native = DirectSend(), NativeSend()
    python.add(by_python)
    native.add(by_c)
    payloads = [bytes([0xFC, tick]) * 30 for tick in range(4)]
    for tick, payload in enumerate(payloads):
        python.send_program(payload, 960 * tick)
        native.send_program(payload, 960 * tick)
    from_python, from_c = await _received(py_inbox, 4), await _received(c_inbox, 4)
    assert from_c == from_python
    packets = _opened(from_c, by_c.stream.extensions)
    assert [p.sequence_number for p in packets] == [0xFFFE, 0xFFFF, 0, 1]
    assert [p.payload for p in packets] == payloads
    assert (native.sent, native.dropped) == (4, 0)
    native.close()


async def test_a_new_ice_pair_continues_the_stream_and_aiortc_gets_the_figures(
    senders: list[RTCRtpSender],
) -> None:
    (first, inbox, to), (second, _, _) = await _endpoint(), await _endpoint()
    listener = _listener(senders[0], first, to)
    start = listener.stream.sequence
    native = NativeSend()
    native.add(listener)
    for tick in range(native_send.SYNC_PACKETS):
        native.send_program(b"\xfc\x01", 960 * tick)
    wire = cast(FakeWire, listener.wire)
    wire.nominated[1] = FakePair(second, to)  # ICE nominated another pair
    for tick in range(native_send.SYNC_PACKETS, native_send.SYNC_PACKETS + 3):
        native.send_program(b"\xfc\x01", 960 * tick)
    native.check()
    assert reported_packets(listener.sender) < native_send.SYNC_PACKETS + 3  # C holds the rest
    native.sync(listener)  # as a sender report is made
    total = native_send.SYNC_PACKETS + 3
    got = _opened(await _received(inbox, total), listener.stream.extensions)
    assert [p.sequence_number for p in got] == [(start + i) & 0xFFFF for i in range(total)]
    assert reported_packets(listener.sender) == total
    assert listener.stream.octets == 2 * total
    native.close()


async def test_a_listener_whose_socket_closed_is_no_longer_sent_to(
    senders: list[RTCRtpSender],
) -> None:
    out, inbox, to = await _endpoint()
    listener = _listener(senders[0], out, to)
    native = NativeSend()
    native.add(listener)
    native.send_program(b"\xfc\x01", 0)
    assert native.wired == 1
    out.close()
    await asyncio.sleep(0)
    native.check()  # done every SYNC_PACKETS packets
    native.send_program(b"\xfc\x02", 960)
    assert native.wired == 0
    assert reported_packets(listener.sender) == 1
    assert (native.sent, native.dropped) == (1, 1)  # the second, tried from Python, failed
    native.discard(listener)
    native.send_program(b"\xfc\x03", 1920)
    assert (native.sent, native.dropped) == (1, 1)
    assert len(await _received(inbox, 1)) == 1 and inbox.got.empty()


async def test_a_removed_listener_gets_nothing_more_and_its_socket_copy_is_closed(
    senders: list[RTCRtpSender],
) -> None:
    out, inbox, to = await _endpoint()
    listeners = [_listener(sender, out, to) for sender in senders]
    native = NativeSend()
    for listener in listeners:
        native.add(listener)
    # Counting open files: sockets an earlier test left for the collector must not close
    # between the two counts.
    gc.collect()
    gc.disable()
    try:
        open_before = len(os.listdir("/proc/self/fd"))
        native.send_program(b"\xfc\x01", 0)
        native.discard(listeners[1])
        native.send_program(b"\xfc\x02", 960)
        got = await _received(inbox, 5)
        open_after = len(os.listdir("/proc/self/fd"))
    finally:
        gc.enable()
    ssrcs = [int.from_bytes(d[8:12], "big") for d in got]
    assert ssrcs.count(listeners[1].stream.ssrc) == 1
    assert open_after == open_before - 1
    native.close()
    assert native.wired == 0


async def test_a_changed_pylibsrtp_makes_the_fan_out_send_from_python_and_say_why_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="parley.media.native_send")
    assert isinstance(ProgramFanout(_program).direct, NativeSend)
    monkeypatch.setattr(srtp_internals, "_PROTECT_SIGNATURE", "int(*)(void)")
    srtp_internals.native_send_problems.cache_clear()
    assert isinstance(ProgramFanout(_program).direct, DirectSend)
    assert isinstance(ProgramFanout(_program).direct, DirectSend)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "sending from Python, not the C loop" in warnings[0]
    assert "not libsrtp 2's" in warnings[0]


async def test_without_the_c_helper_the_fan_out_sends_from_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(srtp_internals, "fanout_module", lambda: None)
    assert "not built" in srtp_internals.native_send_problems()[0]
    assert isinstance(ProgramFanout(_program).direct, DirectSend)


def _program() -> Any:
    raise AssertionError("not read in this test")


async def test_listeners_are_checked_a_share_after_each_packet_each_within_the_period(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # All of them at once, before a packet, held that packet for milliseconds at 400 listeners.
    pc = RTCPeerConnection()
    out, _, to = await _endpoint()
    listeners = [
        _listener(pc.addTransceiver("audio", direction="sendonly").sender, out, to)
        for _ in range(60)
    ]
    native = NativeSend()
    for listener in listeners:
        native.add(listener)
    checked: list[DirectListener] = []
    check = native._check

    def counted(listener: DirectListener) -> None:
        checked.append(listener)
        check(listener)

    monkeypatch.setattr(native, "_check", counted)
    per_packet = []
    for tick in range(native_send.SYNC_PACKETS):
        before = len(checked)
        native.send_program(b"\xfc\x01", 960 * tick)
        per_packet.append(len(checked) - before)

    assert max(per_packet) == -(-len(listeners) // native_send.SYNC_PACKETS)  # 3 of 60
    assert set(checked) == set(listeners)
    native.close()
    await pc.close()
