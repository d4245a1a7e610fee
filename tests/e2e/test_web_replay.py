"""The replay page in Chromium, signed out: a recording whose speaker changed tone half-way is
seeked before and after the change and plays the right tone each time (hls.js on the VOD
playlist), with speed and the speakers' timeline on screen. Leaves docs/screenshots/replay.png.

The recording is made by an aiortc speaker over WebRTC, as in tests/integration/test_recordings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import LaunchBrowser, analyse, heard, silent, until_levels
from tests.e2e.test_web_hls import HLS_JS
from tests.e2e.test_web_space import SCREENSHOTS, open_page
from tests.integration.test_recordings import complete, recorded_segments, singer_voice
from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import ServerThread, serve, sqlite_url

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path), hls_segment_seconds=1.0) as running:
        yield running


async def record_two_tones(server: ServerThread) -> tuple[str, float]:
    """A recorded space: 440 Hz for about 5 s, then 880 Hz for about 5 s; returns the space and
    where in the replay the tone changed."""
    host = await Person.sign_up(server.base_url, "hana", "Hana Host")
    alice = await Person.sign_up(server.base_url, "alice", "Alice")
    bob = await Person.sign_up(server.base_url, "bob", "Bob")
    body = {"title": "Two tones, recorded", "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    for person in (alice, bob):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    singing = await MediaClient.connect(alice, sid, tone=440.0)
    try:
        before = await recorded_segments(alice, sid, 5)
        change = before["duration_seconds"]
        singer_voice(singing).frequency = 880.0
        await bob.call("POST", f"/spaces/{sid}/reactions", 204, json={"emoji": "👏"})
        await recorded_segments(alice, sid, 11)
        await bob.call("POST", f"/spaces/{sid}/reactions", 204, json={"emoji": "🔥"})
        await host.call("POST", f"/spaces/{sid}/end", 200)
    finally:
        await singing.close()
    await complete(host.http, sid)
    for person in (host, alice, bob):
        await person.close()
    return sid, change


async def seek_and_hear(page: Page, position: float, hz: int, other: int) -> None:
    seek = page.get_by_label("Position", exact=True)
    await seek.fill(str(position))
    await page.wait_for_function(
        f"() => Math.abs(parleyReplay.audio.currentTime - {position}) < 1.5", timeout=10_000
    )
    await until_levels(page, lambda v: heard(v, hz) and silent(v, other), timeout=15)


async def test_the_replay_page_seeks_to_the_right_tone(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    if not HLS_JS.exists():
        pytest.fail(f"hls.js is not vendored at {HLS_JS}: run `make setup`", pytrace=False)
    async with asyncio.timeout(150):
        sid, change = await record_two_tones(server)
        page = await open_page(await launch(None), server.base_url, f"/spaces/{sid}/replay")
        await expect(
            page.get_by_role("heading", level=1, name="Two tones, recorded")
        ).to_be_visible()
        await expect(page.get_by_role("button", name="@alice speaking at 0:00")).to_be_visible()
        await page.get_by_role("button", name="Play").click()
        await page.wait_for_function(
            "() => !parleyReplay.audio.paused && parleyReplay.audio.currentTime > 0",
            timeout=15_000,
        )
        await analyse(page, "parleyReplay.audio.captureStream()")
        await seek_and_hear(page, change + 3, 880, 440)
        await seek_and_hear(page, 1.0, 440, 880)
        await page.get_by_role("button", name="1.5×").click()
        assert await page.evaluate("parleyReplay.audio.playbackRate") == 1.5
        await expect(page.get_by_role("button", name="1.5×")).to_have_attribute(
            "aria-pressed", "true"
        )
        await page.get_by_role("button", name="Pause").click()
        await expect(page.get_by_role("button", name="Play")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "replay.png"))
