"""Listening by HLS in the web client: a listener who turned on "Data saver" hears the
speaker's tone through the live playlist (hls.js, pinned and fetched by `make setup`), and opens
no WebRTC connection for it. The choice is remembered on the browser (localStorage), so it is
set before Lou enters the room, as a returning listener would have it.

Needs the vendored hls.js (parley/web/vendor/hls.js/, fetched by `make setup`, which `make test`
runs first); fails saying so without it, never skips.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.browser import HLS_JS, LaunchBrowser, analyse, describe, heard, until_levels
from tests.e2e.pages import button, join_from_home, person, start_space, until_media
from tests.support.servers import ServerThread

# Counts the RTCPeerConnections a page makes: a listener by HLS makes none.
COUNT_PEER_CONNECTIONS = """
  window.peerConnections = 0;
  const Real = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...args) {
    window.peerConnections += 1;
    return new Real(...args);
  };
  window.RTCPeerConnection.prototype = Real.prototype;
"""


async def test_a_listener_with_data_saver_hears_the_stage_by_hls(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    if not HLS_JS.exists():
        pytest.fail(f"hls.js is not vendored at {HLS_JS}: run `make setup`", pytrace=False)
    # A page that stops answering must fail the test, not hold the whole run (Playwright's
    # evaluate has no timeout of its own).
    async with asyncio.timeout(120):
        base = server.base_url
        title = "Tones for the thrifty"
        host, lou = await asyncio.gather(
            person(await launch(tones[440]), base, "hana", "Hana Host"),
            person(await launch(None), base, "lou", "Lou Listener"),
        )
        await lou.evaluate("localStorage.setItem('parley.dataSaver', '1')")
        await lou.context.add_init_script(script=COUNT_PEER_CONNECTIONS)
        await lou.reload()

        await start_space(host, title)
        await until_media(host, send=True)
        await button(host, "Unmute").click()
        await join_from_home(lou, title)
        await expect(lou.get_by_label("Data saver", exact=True)).to_be_checked()
        # The stage always talks over WebRTC: the host is not offered it.
        await expect(host.get_by_label("Data saver", exact=True)).to_be_hidden()

        # The segmenter needs a segment or two before the playlist has anything to play.
        await lou.wait_for_function(
            """() => {
                const c = window.parleyRoom && parleyRoom.audio && parleyRoom.audio.connection;
                return !!c && c.hls === true && !c.audio.paused && c.audio.currentTime > 0;
            }""",
            timeout=30_000,
            polling=100,
        )
        await analyse(lou, "parleyRoom.audio.connection.audio.captureStream()")
        reading = await until_levels(lou, lambda v: heard(v, 440), timeout=15)
        behind = await lou.evaluate("parleyRoom.audio.connection.latency")
        heard_by_hls = f"{describe(reading)}, {behind:.1f} s behind the live edge"
        print(f"\nLou hears the host by HLS: {heard_by_hls}")

        # hls.js plays it as LL-HLS: parts and blocking reloads (PARLEY_HLS_PART_SECONDS).
        assert await lou.evaluate("parleyRoom.audio.connection.lowLatency") is True
        assert await lou.evaluate("window.peerConnections") == 0
        assert await lou.evaluate("parleyRoom.audio.connection.pc") is None
        assert await lou.evaluate("parleyProbe.getUserMediaCalls") == 0

        # Turning it off goes back to WebRTC, and is remembered.
        await lou.get_by_label("Data saver", exact=True).uncheck()
        await lou.wait_for_function(
            "() => parleyRoom.audio.connection?.pc?.connectionState === 'connected'", timeout=15_000
        )
        assert await lou.evaluate("window.peerConnections") == 1
        assert await lou.evaluate("localStorage.getItem('parley.dataSaver')") == "0"
