"""A listener's RTCP sender reports (aiortc_internals.thin_sender_reports, applied by the
program fan-out): one per SENDER_REPORT_SECONDS at most, where aiortc makes one every second or
so; a report not sent leaves the last one sent as what round-trip times refer to; a BYE always
goes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.rtp import RtcpByePacket, RtcpSenderInfo, RtcpSrPacket

from parley.media.aiortc_internals import thin_sender_reports

LAST_SR = "_RTCRtpSender__lsr"


@pytest.fixture
async def sender() -> AsyncIterator[RTCRtpSender]:
    pc = RTCPeerConnection()
    yield pc.addTransceiver("audio", direction="sendonly").sender
    await pc.close()


async def test_one_sender_report_per_interval_goes_and_round_trips_refer_to_it(
    sender: RTCRtpSender,
) -> None:
    went: list[list[Any]] = []

    async def send(packets: list[Any]) -> None:
        went.append(packets)

    sender._send_rtcp = send  # type: ignore[method-assign]
    now = [0.0]
    thin_sender_reports(sender, lambda: now[0], 5.0)
    for second in range(12):  # aiortc's loop, a report a second
        now[0] = float(second)
        setattr(sender, LAST_SR, second)  # what aiortc notes before sending each
        info = RtcpSenderInfo(ntp_timestamp=second, rtp_timestamp=0, packet_count=0, octet_count=0)
        await sender._send_rtcp([RtcpSrPacket(ssrc=1, sender_info=info)])
        assert getattr(sender, LAST_SR) == 5 * (second // 5)
    assert [p[0].sender_info.ntp_timestamp for p in went] == [0, 5, 10]
    await sender._send_rtcp([RtcpByePacket(sources=[1])])
    assert isinstance(went[-1][0], RtcpByePacket)
