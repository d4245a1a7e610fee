"""HLS where WebRTC does not reach, in real Chromium: a listener past the node's WebRTC listener
cap is moved to HLS by the web client, told so, and hears the stage; someone with no account
opens a space's share page, sees what the host pinned, presses Play and hears it.

Needs the vendored hls.js (`make setup`); fails saying so without it, never skips.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.browser import HLS_JS, PROBE, LaunchBrowser, analyse, describe, heard, until_levels
from tests.e2e.pages import (
    VIEWPORT,
    button,
    join_from_home,
    person,
    shoot,
    start_space,
    until_media,
)
from tests.support.audio import MediaClient
from tests.support.clients import Person
from tests.support.servers import ServerThread, serve, sqlite_url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path), webrtc_listener_cap=1) as running:
        yield running


def need_hls_js() -> None:
    if not HLS_JS.exists():
        pytest.fail(f"hls.js is not vendored at {HLS_JS}: run `make setup`", pytrace=False)


async def test_a_listener_past_the_webrtc_cap_hears_the_stage_by_hls(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    need_hls_js()
    async with asyncio.timeout(120):
        base = server.base_url
        title = "A full room"
        host, lou = await asyncio.gather(
            person(await launch(tones[440]), base, "hana", "Hana Host"),
            person(await launch(None), base, "lou", "Lou Listener"),
        )
        await start_space(host, title)
        await until_media(host, send=True)  # the stage is never capped
        await button(host, "Unmute").click()
        sid = await host.evaluate("parleyRoom.space.id")
        # Someone else takes the node's one WebRTC listener place.
        early = await Person.sign_up(base, "early")
        await early.call("POST", f"/spaces/{sid}/join", 200)
        taken = await MediaClient.connect(early, sid)
        try:
            await join_from_home(lou, title)
            await expect(
                lou.locator("#main").get_by_text("Live audio is full on this")
            ).to_be_visible()
            await lou.wait_for_function(
                """() => {
                    const c = window.parleyRoom?.audio?.connection;
                    return !!c && c.hls === true && c.capped === true && c.audio.currentTime > 0;
                }""",
                timeout=30_000,
                polling=100,
            )
            await analyse(lou, "parleyRoom.audio.connection.audio.captureStream()")
            reading = await until_levels(lou, lambda v: heard(v, 440), timeout=15)
            print(f"\nLou, past the cap, hears the host by HLS: {describe(reading)}")
            assert await lou.evaluate("parleyRoom.audio.connection.pc") is None
        finally:
            await taken.close()
            await early.close()


async def test_someone_signed_out_listens_on_the_share_page(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    need_hls_js()
    async with asyncio.timeout(120):
        base = server.base_url
        title = "Open to all"
        host = await person(await launch(tones[440]), base, "hana", "Hana Host")
        await start_space(host, title)
        await until_media(host, send=True)
        await button(host, "Unmute").click()
        sid = await host.evaluate("parleyRoom.space.id")
        # The room links to its share page.
        share = host.get_by_role("link", name="Share link", exact=True)
        assert await share.get_attribute("href") == f"/s/{sid}"

        # The host pins a post: the share page shows it to anyone, its link the redirector.
        hana = await Person.sign_in(base, "hana")
        text = "Tonight's set list: https://example.org/setlist"
        notes = await hana.call("POST", "/posts", 201, json={"text": text})
        await hana.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": notes["id"]})
        await hana.close()

        stranger = await (await launch(None)).new_context(viewport=VIEWPORT)
        await stranger.add_init_script(path=PROBE)
        page = await stranger.new_page()
        page.on("pageerror", lambda error: print(f"[page error] {error}"))
        await page.goto(f"{base}/s/{sid}")
        await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
        await expect(page.get_by_text("Hosted by Hana Host")).to_be_visible()
        await expect(page.get_by_role("list", name="On stage")).to_contain_text("@hana")
        pinned = page.get_by_role("list", name="Pinned")
        await expect(pinned).to_contain_text("Tonight's set list")
        setlist = pinned.get_by_role("link", name="https://example.org/setlist")
        await expect(setlist).to_have_attribute("href", re.compile(r"^/l/[0-9a-f]+$"))
        await page.get_by_role("button", name="Play", exact=True).click()
        await expect(page.get_by_role("status")).to_have_text(
            "Listening live, a few seconds behind", timeout=30_000
        )
        await analyse(page, "document.getElementById('player').captureStream()")
        reading = await until_levels(page, lambda v: heard(v, 440), timeout=15)
        print(f"\nA stranger hears the host on the share page: {describe(reading)}")
        assert await page.evaluate("parleyShare.connection.hls") is True
        stop = page.get_by_role("button", name="Stop", exact=True)
        await expect(stop).to_be_visible()
        # Styled as the app (page.css, then share.css): its accent, not a browser's grey button.
        assert await stop.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(75, 75, 200)"
        await shoot(page, "share-page")
