"""Signs of life (media/liveness.py): a listener's RTCP reaches aiortc once per
LISTENER_RTCP_SECONDS, and each of its other packets counts as a sign of life once SRTCP has
authenticated it, then goes no further; a forged one is not a sign of life. A speaker's RTCP all
goes to aiortc."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtp import RtcpRrPacket
from pylibsrtp import Policy, Session

from parley.media import liveness

KEY = os.urandom(30)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pc() -> AsyncIterator[RTCPeerConnection]:
    connection = RTCPeerConnection()
    connection.addTransceiver("audio", direction="sendonly")
    # As once DTLS is up: the session that opens what the peer protects.
    connection.getTransceivers()[0].sender.transport._rx_srtp = Session(
        Policy(KEY, Policy.SSRC_ANY_INBOUND)
    )
    yield connection
    await connection.close()


@pytest.mark.parametrize("listener", [True, False], ids=["listener", "speaker"])
async def test_a_listeners_rtcp_reaches_aiortc_once_in_a_while_and_every_packet_is_a_sign_of_life(
    pc: RTCPeerConnection, listener: bool
) -> None:
    clock, marks = Clock(), []
    liveness.note_signs_of_life(pc, lambda: marks.append(clock.now), listener=listener, clock=clock)
    connection = pc.getTransceivers()[0].sender.transport.transport._connection
    peer = Session(Policy(KEY, Policy.SSRC_ANY_OUTBOUND))
    reports = [peer.protect_rtcp(bytes(RtcpRrPacket(ssrc=1234))) for _ in range(12)]
    for report in reports:  # one a second
        connection.data_received(report, 1)
        forged = bytearray(report)
        forged[-1] ^= 1
        connection.data_received(bytes(forged), 1)
        clock.now += 1.0
    queued = []
    while not connection._queue.empty():
        item = connection._queue.get_nowait()
        assert item is not None
        queued.append(item[0])
    if listener:
        step = int(liveness.LISTENER_RTCP_SECONDS)
        assert queued == reports[::step]
        # Those aiortc gets are marked by the sender's handler once aiortc has opened them.
        assert marks == [100.0 + i for i in range(12) if i % step]
    else:
        assert len(queued) == 24  # aiortc opens them (and refuses the forged ones)
        assert marks == []


class Heard:
    def __init__(self, name: str, last_heard: float) -> None:
        self.name, self.last_heard = name, last_heard


def looks(watch: liveness.SilenceWatch, peers: list[Heard], times: list[float]) -> list[list[str]]:
    return [[peer.name for peer in watch.silent(peers, now)] for now in times]


def test_a_connection_is_silent_once_nothing_came_for_the_silence() -> None:
    watch = liveness.SilenceWatch(silence=10.0, interval=1.0, now=100.0)
    peers = [Heard("gone", 100.0), Heard("talking", 100.0)]
    seen = []
    for now in [101.0 + i for i in range(10)]:
        peers[1].last_heard = now - 0.02
        seen.append([peer.name for peer in watch.silent(peers, now)])
    assert seen == [[]] * 9 + [["gone"]]


def test_a_look_after_the_loop_stood_still_drops_nobody_and_the_next_one_decides() -> None:
    # The loop stood still for 12 s after the look at 101: nobody's packets were read meanwhile.
    watch = liveness.SilenceWatch(silence=10.0, interval=1.0, now=100.0)
    peers = [Heard("gone", 95.0), Heard("talking", 100.9)]
    assert looks(watch, peers, [101.0, 113.0]) == [[], []]
    peers[1].last_heard = 113.01  # what it sent during the pause, read once the loop ran again
    assert looks(watch, peers, [114.0, 115.0]) == [["gone"], ["gone"]]


def test_a_loop_that_is_always_late_still_drops_the_silent() -> None:
    watch = liveness.SilenceWatch(silence=10.0, interval=1.0, now=100.0)
    peers = [Heard("gone", 100.0)]
    # Every look 3 s late: one in two is excused, never two in a row.
    assert looks(watch, peers, [104.0 + 4 * i for i in range(5)]) == [[], [], [], ["gone"], []]
