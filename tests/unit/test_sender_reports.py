"""A listener's RTCP sender reports (aiortc_internals.report_every, set up by the program
fan-out): one every SENDER_REPORT_SECONDS or so (the first after half that), where aiortc's own
task makes one every second or so; each carries the figures handed over just before it is made,
the peer's receiver reports that refer to it give a round-trip time, and a BYE goes when the
sender stops."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCRtcpParameters, RTCRtpSender
from aiortc.rtp import RtcpByePacket, RtcpReceiverInfo, RtcpRrPacket, RtcpSdesPacket, RtcpSrPacket

from parley.media.aiortc_internals import OutboundRtp, report_every
from tests.support import rtp

OPUS = dataclasses.replace(rtp.OPUS, rtcp=RTCRtcpParameters(cname="parley"))


@pytest.fixture
async def sender() -> AsyncIterator[RTCRtpSender]:
    pc = RTCPeerConnection()
    yield pc.addTransceiver("audio", direction="sendonly").sender
    await pc.close()


async def test_a_report_every_five_seconds_or_so_with_the_figures_of_what_went(
    sender: RTCRtpSender,
) -> None:
    went: list[list[Any]] = []

    async def send(packets: list[Any]) -> None:
        went.append(packets)

    sender._send_rtcp = send  # type: ignore[method-assign]
    stream = OutboundRtp.starting(sender, OPUS)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the clock moves as far as asked, three times
        waits.append(seconds)
        if len(waits) > 3:
            await asyncio.Future()  # until the sender stops

    handed = iter(range(1, 100))

    def before_report() -> None:  # as the C fan-out hands over what it sent meanwhile
        n = next(handed)
        stream.reported(packets=50 * n, octets=4000 * n, timestamp=48_000 * n, ntp_time=n << 32)

    report_every(sender, 5.0, before_report, sleep=sleep)
    await sender.send(OPUS)
    while len(went) < 3:
        await asyncio.sleep(0)
    first, *later = waits  # RFC 3550: the first interval is half as long
    assert 1.25 <= first <= 3.75 and all(2.5 <= wait <= 7.5 for wait in later), waits
    for n, packets in enumerate(went, start=1):
        report, names = packets
        assert isinstance(report, RtcpSrPacket) and report.ssrc == sender._ssrc
        info = report.sender_info
        assert (info.packet_count, info.octet_count) == (50 * n, 4000 * n)
        assert (info.rtp_timestamp, info.ntp_timestamp) == (48_000 * n, n << 32)
        assert isinstance(names, RtcpSdesPacket) and names.chunks[0].ssrc == sender._ssrc
    await asyncio.wait_for(sender.stop(), 2)
    assert len(went) == 4 and isinstance(went[-1][0], RtcpByePacket)


async def test_the_peers_receiver_report_on_the_last_report_gives_a_round_trip_time(
    sender: RTCRtpSender,
) -> None:
    async def send(packets: list[Any]) -> None:
        pass

    sender._send_rtcp = send  # type: ignore[method-assign]
    ticks = asyncio.Queue[None]()

    async def sleep(seconds: float) -> None:
        await ticks.get()

    stream = OutboundRtp.starting(sender, OPUS)
    ntp_time = 0x1234_5678_9ABC_DEF0
    made: list[float] = []

    def before_report() -> None:
        stream.reported(50, 4000, 48_000, ntp_time)
        made.append(time.time())

    report_every(sender, 5.0, before_report, sleep=sleep)
    await sender.send(OPUS)
    ticks.put_nowait(None)  # one report goes
    while not made:
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    # The listener says it held that report 40 ms (in 1/65536 s) before it answered.
    heard = RtcpReceiverInfo(
        ssrc=sender._ssrc,
        fraction_lost=0,
        packets_lost=0,
        highest_sequence=stream.sequence,
        jitter=0,
        lsr=(ntp_time >> 16) & 0xFFFFFFFF,  # how a receiver report names a sender report
        dlsr=int(0.040 * 65536),
    )
    await sender._handle_rtcp_packet(RtcpRrPacket(ssrc=99, reports=[heard]))
    expected = time.time() - made[0] - 0.040
    stats = [s for s in (await sender.getStats()).values() if s.type == "remote-inbound-rtp"]
    assert len(stats) == 1 and stats[0].roundTripTime is not None
    assert abs(stats[0].roundTripTime - expected) < 0.02, (stats[0].roundTripTime, expected)
    await asyncio.wait_for(sender.stop(), 2)
