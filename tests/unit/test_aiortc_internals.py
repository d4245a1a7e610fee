"""aiortc's private API, fenced: the installed aiortc passes the start-up check, an aiortc that
lacks what the media edge relies on stops the node with a message naming it, and the program
fan-out numbers its packets the way aiortc's own senders do."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiortc
import pytest
from aiortc import RTCDtlsTransport, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, sdp
from aiortc import rtcrtpsender as aiortc_sender
from aiortc.rtcrtpparameters import RTCRtcpParameters, RTCRtpCodecParameters, RTCRtpSendParameters
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from parley.config import Settings
from parley.media.aiortc_internals import (
    SUPPORTED_AIORTC,
    AiortcMismatch,
    OutboundRtp,
    self_check,
)
from parley.services.node import Node
from tests.support.servers import TEST_SETTINGS, sqlite_url

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


async def test_the_installed_aiortc_has_everything_the_media_edge_relies_on() -> None:
    await self_check()


def test_pyproject_pins_the_range_the_fence_was_written_for_and_it_is_installed() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pinned = [Requirement(d) for d in dependencies if Requirement(d).name == "aiortc"]
    assert [r.specifier for r in pinned] == [SpecifierSet(SUPPORTED_AIORTC)]
    assert pinned[0].specifier.contains(aiortc.__version__)


def _without_packet_count(monkeypatch: pytest.MonkeyPatch) -> None:
    built = RTCRtpSender.__init__

    def init(self: RTCRtpSender, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        delattr(self, "_RTCRtpSender__packet_count")

    monkeypatch.setattr(RTCRtpSender, "__init__", init)


def _with_changed_rtp_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    async def handle(self: RTCRtpReceiver, packet: object, arrival: int, extra: int) -> None:
        pass

    monkeypatch.setattr(RTCRtpReceiver, "_handle_rtp_packet", handle)


def _with_sdp_that_drops_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    parse = sdp.SessionDescription.parse

    def parse_without_candidates(text: str) -> sdp.SessionDescription:
        description = parse(text)
        for media in description.media:
            media.ice_candidates = []
        return description

    monkeypatch.setattr(sdp.SessionDescription, "parse", parse_without_candidates)


BREAKAGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "a private method gone": (
        lambda mp: mp.delattr(RTCDtlsTransport, "_send_rtp"),
        "RTCDtlsTransport._send_rtp is missing",
    ),
    "the connecting coroutine gone": (
        lambda mp: mp.delattr(RTCPeerConnection, "_RTCPeerConnection__connect"),
        "RTCPeerConnection._RTCPeerConnection__connect is missing",
    ),
    "aiortc's sequence number choice gone": (
        lambda mp: mp.delattr(aiortc_sender, "random_sequence_number"),
        "aiortc.rtcrtpsender.random_sequence_number is missing",
    ),
    "an attribute set in __init__ gone": (
        _without_packet_count,
        "RTCRtpSender._RTCRtpSender__packet_count is missing",
    ),
    "a handler that takes another argument": (
        _with_changed_rtp_handler,
        "is not callable as (self, packet, arrival_time_ms)",
    ),
    "an SDP parser that reads offers differently": (
        _with_sdp_that_drops_candidates,
        "aiortc.sdp reads a one-section Opus offer as",
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
async def test_an_aiortc_that_changed_fails_the_check_naming_the_change_and_its_version(
    monkeypatch: pytest.MonkeyPatch, breakage: str
) -> None:
    breaking, named = BREAKAGES[breakage]
    breaking(monkeypatch)
    with pytest.raises(AiortcMismatch) as raised:
        await self_check()
    message = str(raised.value)
    assert named in message
    assert f"aiortc {aiortc.__version__}" in message
    assert f"aiortc{SUPPORTED_AIORTC}" in message


async def test_a_node_refuses_to_start_on_an_aiortc_that_changed_before_touching_the_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delattr(RTCDtlsTransport, "_send_rtp")
    node = Node(Settings(**{**TEST_SETTINGS, "database_url": sqlite_url(tmp_path)}))
    try:
        with pytest.raises(AiortcMismatch, match="_send_rtp is missing"):
            await node.start()
        assert not (tmp_path / "parley.db").exists()
    finally:
        await node.db.close()


@pytest.fixture
async def sender() -> AsyncIterator[RTCRtpSender]:
    pc = RTCPeerConnection()
    yield pc.addTransceiver("audio", direction="sendonly").sender
    await pc.close()


OPUS = RTCRtpSendParameters(
    codecs=[RTCRtpCodecParameters("audio/opus", 48_000, 2, payloadType=111)],
    muxId="0",
    rtcp=RTCRtcpParameters(),
)


async def test_listeners_streams_start_where_aiortc_starts_its_own(
    monkeypatch: pytest.MonkeyPatch, sender: RTCRtpSender
) -> None:
    # aiortc keeps first sequence numbers in the lower half, so none wraps early; ours too.
    firsts = [OutboundRtp.starting(sender, OPUS) for _ in range(64)]
    assert all(0 <= stream.sequence < 0x8000 for stream in firsts)
    assert len({stream.timestamp_origin for stream in firsts}) > 1
    assert {stream.ssrc for stream in firsts} == {sender._ssrc}
    # Whatever aiortc chooses, the fan-out follows.
    monkeypatch.setattr(aiortc_sender, "random_sequence_number", lambda: 1234)
    assert OutboundRtp.starting(sender, OPUS).sequence == 1234
