"""Signs of life (media/liveness.py): every RTCP packet a listener sends counts as one, but only
one in LISTENER_RTCP_SECONDS reaches aiortc's parsing and statistics; a speaker's all do."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection

from parley.media import liveness


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def connection() -> AsyncIterator[tuple[RTCPeerConnection, list[bytes]]]:
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="sendonly")
    handed: list[bytes] = []
    dtls = pc.getTransceivers()[0].sender.transport

    async def aiortc_handles(data: bytes) -> None:
        handed.append(data)

    dtls._handle_rtcp_data = aiortc_handles  # type: ignore[method-assign]
    yield pc, handed
    await pc.close()


@pytest.mark.parametrize("listener", [True, False], ids=["listener", "speaker"])
async def test_every_rtcp_packet_is_a_sign_of_life_and_a_listeners_reach_aiortc_thinned(
    connection: tuple[RTCPeerConnection, list[bytes]], listener: bool
) -> None:
    pc, handed = connection
    clock, marks = Clock(), []
    liveness.note_signs_of_life(pc, lambda: marks.append(clock.now), listener=listener, clock=clock)
    dtls = pc.getTransceivers()[0].sender.transport
    reports = [bytes([0x81, 201, 0, i]) for i in range(12)]
    for report in reports:  # one a second
        await dtls._handle_rtcp_data(report)
        clock.now += 1.0
    step = int(liveness.LISTENER_RTCP_SECONDS)
    if listener:
        assert marks == [100.0 + i for i in range(12)]
        assert handed == reports[::step]
    else:  # aiortc's routing to the sender notes them (not run here: its handler is replaced)
        assert handed == reports
