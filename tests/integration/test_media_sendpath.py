"""The program reaches a real aiortc listener below aiortc's own sender: through the C loop
(media/native_send.py, SRTP and sendmmsg in C), from Python (media/sendpath.py) batched with
sendmmsg or sent with socket.sendto where the C helpers are not built, and through aiortc's
transport when the installed aiortc fails the direct path's check. In every case the
listener gets one unbroken SRTP stream: sequence numbers one apart, timestamps 960 apart (20 ms
of 48 kHz), audio that decodes to the speaker's tone, sender reports that count exactly the
packets and payload octets it received, and receiver reports that reach the server's sender.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiortc import RTCRtpSender

from parley.media import datagrams, srtp_internals
from parley.media import sendpath as sendpath_module
from parley.media.native_send import NativeSend
from tests.support.audio import MediaClient, loudest_frequency, tone_level
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import ServerThread, serve, sqlite_url

TONE = 440.0
MODES = ("C loop", "sendmmsg", "sendto", "through aiortc")
CHANGED = "aioice CandidatePair.remote_addr is not a property"


@pytest.fixture(params=MODES)
def send_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    mode: str = request.param
    srtp_internals.native_send_problems.cache_clear()
    request.addfinalizer(srtp_internals.native_send_problems.cache_clear)
    if mode == "C loop":
        assert srtp_internals.native_send_problems() == ()
    else:  # as on a machine that cannot build the C loop
        monkeypatch.setattr(srtp_internals, "fanout_module", lambda: None)
    if mode in ("C loop", "sendmmsg"):
        assert datagrams.sendmmsg_built(), "parley.media._sendmmsg is not built: pip install -e ."
    elif mode == "sendto":
        monkeypatch.setattr(datagrams, "_sendmmsg", None)  # as on a machine that cannot build it
    else:
        # An aiortc that fails the direct path's check (what the check notices is in
        # tests/unit/test_sendpath.py; here, breaking aiortc would break the connection too).
        monkeypatch.setattr(sendpath_module, "direct_send_problems", lambda: (CHANGED,))
        monkeypatch.setattr(sendpath_module.direct_path, "warned", False)
    return mode


@pytest.fixture
async def server(send_mode: str, tmp_path: Path) -> AsyncIterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path)) as running:
        yield running


async def test_a_listener_gets_one_unbroken_stream_that_decodes_to_the_tone(
    server: ServerThread, send_mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    people = {name: await Person.sign_up(server.base_url, name) for name in ("host", "ada", "lou")}
    sid = (await people["host"].call("POST", "/spaces", 201, json={"title": "Tone"}))["id"]
    for name in ("ada", "lou"):
        await people[name].call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(people["host"], people["ada"], sid)
    ada = await MediaClient.connect(people["ada"], sid, tone=TONE)
    lou = await MediaClient.connect(people["lou"], sid)
    try:
        await lou.hearing.until("hears", TONE)
        packets, stats = await _until_reported(lou, packets=150)

        room = server.node.media.rooms[sid].room
        sender = room.peers[people["lou"].id].pc.getSenders()[0]
        _sent_the_way(room.fanout, send_mode, len(packets))
        _one_unbroken_stream(packets, sender._ssrc)
        _decodes_to_the_tone(lou)
        _sender_reports_count_what_arrived(stats, packets)
        _receiver_reports_reach_the_server(server, sender)
        # Said once, when the node starts (the server fixture's set-up).
        said = [r.getMessage() for r in caplog.get_records("setup") + caplog.records]
        said = [m for m in said if "sending through aiortc's transport" in m]
        assert said == (
            [f"program fan-out: sending through aiortc's transport, not directly: {CHANGED}"]
            if send_mode == "through aiortc"
            else []
        )
    finally:
        for client in (ada, lou):
            await client.close()
        for person in people.values():
            await person.close()


async def _until_reported(listener: MediaClient, packets: int) -> tuple[list[Any], Any]:
    """At least `packets` received, and a sender report about them (aiortc sends one every
    0.5 to 1.5 s): the packets received so far and the receiver's statistics."""
    assert listener.rtp is not None
    receiver = listener.pc.getTransceivers()[0].receiver
    async with asyncio.timeout(20):
        while True:
            received = list(listener.rtp.packets)
            stats = await receiver.getStats()
            reports = [s for s in stats.values() if s.type == "remote-outbound-rtp"]
            if len(received) >= packets and reports and reports[0].packetsSent >= packets // 2:
                return received, stats
            await asyncio.sleep(0.05)


def _sent_the_way(fanout: Any, mode: str, received: int) -> None:
    if mode == "through aiortc":
        assert fanout.direct is None
        return
    assert fanout.direct is not None
    assert isinstance(fanout.direct, NativeSend) == (mode == "C loop")
    assert fanout.direct.sendmmsg == (mode in ("C loop", "sendmmsg"))
    # The server's thread counts a packet once its send returns: the listener may have it first.
    deadline = time.monotonic() + 2
    while fanout.direct.sent < received and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fanout.direct.sent >= received
    assert fanout.direct.dropped == 0


def _one_unbroken_stream(packets: list[Any], ssrc: int) -> None:
    assert {p.ssrc for p in packets} == {ssrc}
    assert {p.payload_type for p in packets} == {packets[0].payload_type}
    steps = [(b.sequence_number - a.sequence_number) % 0x10000 for a, b in pairwise(packets)]
    assert set(steps) == {1}, f"sequence numbers are not consecutive: {sorted(set(steps))}"
    ticks = [(b.timestamp - a.timestamp) % 0x1_0000_0000 for a, b in pairwise(packets)]
    # A mixer tick skipped on a stalled loop leaves a gap of whole packets in time, never
    # a step back or a fraction of a packet.
    assert all(t > 0 and t % 960 == 0 for t in ticks), sorted(set(ticks))
    # Mostly one tick apart: 20 ms of audio each (a starved server skips ticks, not packets).
    assert ticks.count(960) >= 0.8 * len(ticks), sorted(set(ticks))


def _decodes_to_the_tone(listener: MediaClient) -> None:
    heard = np.concatenate([pcm for _, pcm in list(listener.hearing.chunks)[-25:]])
    loudest = loudest_frequency(heard)
    assert abs(loudest - TONE) <= 5, f"the loudest frequency heard is {loudest} Hz"
    assert tone_level(heard, TONE) >= -30.0


def _sender_reports_count_what_arrived(stats: Any, packets: list[Any]) -> None:
    reports = [s for s in stats.values() if s.type == "remote-outbound-rtp"]
    assert reports, "no sender report arrived"
    counted = reports[0].packetsSent
    assert 0 < counted <= len(packets)
    assert reports[0].bytesSent == sum(len(p.payload) for p in packets[:counted])


def _receiver_reports_reach_the_server(server: ServerThread, sender: RTCRtpSender) -> None:
    stats = server.call(sender.getStats())
    remote = [s for s in stats.values() if s.type == "remote-inbound-rtp"]
    assert remote, "no receiver report reached the server's sender"
    assert remote[0].packetsLost == 0
