"""A real Chromium listener of the program sent below aiortc's sender: through the C loop
(media/native_send.py), and from Python (media/sendpath.py) batched with sendmmsg and with the
socket.sendto fallback: Chromium's SRTP opens every packet, its RTP
statistics see an unbroken stream at 50 packets a second with nothing lost, the sender reports
count what it received, and what it plays is the speaker's tone.

The speaker is an aiortc client singing 440 Hz (tests/support/audio.py); the listener is the
web client's liveAudio() in a page whose analyser measures what it plays.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page

from parley.media import datagrams, srtp_internals
from parley.media.native_send import NativeSend
from tests.e2e.browser import LaunchBrowser, analyse, describe, heard, open_app, until_levels
from tests.e2e.live_audio import start_live_audio, until_connected
from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import ServerThread

RTP_STATS = """async () => {
  const stats = {};
  (await live.connection.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") stats.inbound = s;
    if (s.type === "remote-outbound-rtp" && s.kind === "audio") stats.remote = s;
  });
  const { inbound, remote } = stats;
  return {
    received: inbound.packetsReceived, lost: inbound.packetsLost,
    discarded: inbound.packetsDiscarded, bytes: inbound.bytesReceived,
    reported: remote ? remote.packetsSent : null,
  };
}"""


@pytest.mark.parametrize("mode", ["C loop", "sendmmsg", "sendto"])
async def test_chromium_hears_the_tone_in_an_unbroken_stream(
    server: ServerThread, launch: LaunchBrowser, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    srtp_internals.native_send_problems.cache_clear()
    if mode == "C loop":
        assert srtp_internals.native_send_problems() == ()
    else:
        monkeypatch.setattr(srtp_internals, "fanout_module", lambda: None)
        srtp_internals.native_send_problems.cache_clear()
    sendmmsg = mode != "sendto"
    if sendmmsg:
        assert datagrams.sendmmsg_built(), "parley.media._sendmmsg is not built: pip install -e ."
    else:
        monkeypatch.setattr(datagrams, "_sendmmsg", None)
    host, ada, lou = [await Person.sign_up(server.base_url, h) for h in ("host", "ada", "lou")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tone"}))["id"]
    for person in (ada, lou):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, ada, sid)
    singer = await MediaClient.connect(ada, sid, tone=440)
    page = await open_app(await launch(None), server.base_url)
    try:
        await start_live_audio(page, sid, lou)
        await until_connected(page, send=False)
        await analyse(page, "live.connection.remoteStream")
        await until_levels(page, lambda v: heard(v, 440))

        before = await _rtp_stats(page)
        await asyncio.sleep(2.0)
        after = await _rtp_stats(page)
        received = after["received"] - before["received"]
        # 50 a second; a server starved by a busy machine skips ticks (never bursts), so fewer.
        assert 60 <= received <= 115, (before, after)
        assert after["lost"] == 0 and after["discarded"] == 0, after
        # Sender reports: the first 1.25 to 3.75 s after sending starts, then one every 2.5 to
        # 7.5 s (fanout.SENDER_REPORT_SECONDS), each with the figures of the moment it is made.
        after = await _until_reported(page)
        assert after["reported"] <= after["received"], after
        assert after["received"] - after["reported"] <= 400, after  # 7.5 s and a half
        fanout = server.node.media.rooms[sid].room.fanout
        assert fanout.direct is not None and fanout.direct.sendmmsg == sendmmsg
        assert isinstance(fanout.direct, NativeSend) == (mode == "C loop")
        assert fanout.direct.sent >= after["received"] and fanout.direct.dropped == 0
        levels = await until_levels(page, lambda v: heard(v, 440))
        print(f"\nChromium hears {describe(levels)}; RTP {after}")
        await page.evaluate("live.close()")
    finally:
        srtp_internals.native_send_problems.cache_clear()
        await singer.close()
        for person in (host, ada, lou):
            await person.close()


async def _rtp_stats(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = await page.evaluate(RTP_STATS)
    return stats


async def _until_reported(page: Page) -> dict[str, Any]:
    """The RTP statistics once Chromium has had a sender report."""
    for _ in range(40):
        stats = await _rtp_stats(page)
        if stats["reported"] is not None:
            return stats
        await asyncio.sleep(0.25)
    raise AssertionError(f"no sender report reached Chromium in 10 s: {stats}")
