"""The replay page in Chromium, signed out: a recording whose speaker changed tone half-way is
seeked before and after the change and plays the right tone each time (hls.js on the VOD
playlist), with speed and the speakers' timeline on screen; a recording's transcript is listed,
searched, and a line seeks the replay to its time; a moderator reads a reported space's words
around the report and searches transcripts, following links into the replay. Leaves
docs/screenshots/replay.png and replay-transcript.png.

The recording is made by an aiortc speaker over WebRTC, as in tests/integration/test_recordings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.e2e.a11y import Axe, check_a11y
from tests.e2e.browser import HLS_JS, LaunchBrowser, analyse, heard, silent, until_levels
from tests.e2e.media_session import offered, press, spied_page, until_playing
from tests.e2e.pages import button, open_page, shoot, sign_in
from tests.support.audio import MediaClient
from tests.support.captions import say_now
from tests.support.clients import Person, bring_on_stage
from tests.support.moderation import admin
from tests.support.recordings import complete, recorded_segments, singer_voice
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
        await shoot(page, "replay")


async def record_with_transcript(server: ServerThread) -> str:
    """A recorded space of about 10 s where Alice "says" three lines (final captions put in as
    recognition would), a few seconds apart."""
    host = await Person.sign_up(server.base_url, "hana", "Hana Host")
    alice = await Person.sign_up(server.base_url, "alice", "Alice")
    body = {"title": "Words, recorded", "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await alice.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    singing = await MediaClient.connect(alice, sid, tone=440.0)
    try:
        for count, text in ((2, "good morning everyone"), (5, "the weather is fine"),
                            (8, "now about the garden")):  # fmt: skip
            await recorded_segments(alice, sid, count)
            say_now(server, sid, alice.id, text)
        await recorded_segments(alice, sid, 11)
        await host.call("POST", f"/spaces/{sid}/end", 200)
    finally:
        await singing.close()
    await complete(host.http, sid)
    for person in (host, alice):
        await person.close()
    return sid


# The two tests below read one recording with its transcript, made once (it takes a dozen
# seconds of live audio): neither changes it (a report is made on it, which leaves the recording
# and its lines as they are).
@pytest.fixture(scope="module")
def words_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    database = sqlite_url(tmp_path_factory.mktemp("words"))
    with serve(database_url=database, hls_segment_seconds=1.0) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def words(words_server: ServerThread) -> str:
    return await record_with_transcript(words_server)


async def test_the_replay_shows_its_transcript_and_a_line_seeks_to_its_time(
    words_server: ServerThread, words: str, launch: LaunchBrowser, axe_source: Axe
) -> None:
    if not HLS_JS.exists():
        pytest.fail(f"hls.js is not vendored at {HLS_JS}: run `make setup`", pytrace=False)
    server, sid = words_server, words
    async with asyncio.timeout(120):
        browser = await launch(None)
        page = await open_page(browser, server.base_url, f"/spaces/{sid}/replay")
        await expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
        # Whose space it was and when, the host's name leading to her profile.
        hosted = page.locator("p.host", has_text="Hosted by")
        await expect(hosted.get_by_role("link", name="Hana Host")).to_have_attribute(
            "href", "#/u/hana"
        )
        await expect(hosted).to_contain_text(re.compile(r" · \w{3} \d{1,2}, \d{4}"))
        # Hana hosted, Alice listened and then spoke: two tuned in, one listener at most.
        await expect(
            page.get_by_text("2 people tuned in · at most 1 listener at once")
        ).to_be_visible()
        lines = page.get_by_role("list", name="Transcript lines").get_by_role("button")
        await expect(lines).to_have_count(3)
        starts = await page.evaluate("parleyReplay.lines.map((l) => l.start)")
        second = lines.nth(1)
        await expect(second).to_contain_text("Alice")
        await expect(second).to_contain_text("the weather is fine")

        # The search keeps the lines holding its words.
        search = page.get_by_label("Search the transcript")
        await search.fill("garden")
        await expect(lines.filter(visible=True)).to_have_count(1)
        await expect(page.get_by_text("1 of 3 lines")).to_be_visible()
        await search.fill("")
        await expect(lines.filter(visible=True)).to_have_count(3)

        # A line plays the replay from its time, and is marked as the one being heard.
        await second.click()
        await page.wait_for_function(
            f"() => !parleyReplay.audio.paused && parleyReplay.audio.currentTime >= {starts[1]}"
            f" && parleyReplay.audio.currentTime < {starts[1]} + 1.5",
            timeout=15_000,
        )
        await expect(second).to_have_attribute("aria-current", "true")
        await expect(lines.nth(0)).not_to_have_attribute("aria-current", "true")
        await page.get_by_role("button", name="Pause").click()
        await check_a11y(page, axe_source, "replay with its transcript")
        await shoot(page, "replay-transcript", full_page=True)

        # A moderator's link (`?t=`) opens the replay at that time.
        linked = await open_page(
            browser, server.base_url, f"/spaces/{sid}/replay?t={starts[2]:.1f}"
        )
        await expect(linked.get_by_role("heading", name="Transcript")).to_be_visible()
        await linked.wait_for_function(
            f"() => Math.abs(parleyReplay.audio.currentTime - {starts[2]:.1f}) < 0.2",
            timeout=10_000,
        )


async def test_a_moderator_reads_a_reported_space_around_the_report_and_searches_transcripts(
    words_server: ServerThread, words: str, launch: LaunchBrowser, axe_source: Axe
) -> None:
    server, sid = words_server, words
    async with asyncio.timeout(120):
        moderator = await admin(server, "mod")
        rita = await Person.sign_up(server.base_url, "rita", "Rita")
        report = {"target_type": "space", "target_id": sid, "rule": "harassment"}
        await rita.call("POST", "/reports", 201, json=report)
        for person in (moderator, rita):
            await person.close()
        page = await open_page(await launch(None), server.base_url)
        await sign_in(page, "mod")
        await page.goto(f"{server.base_url}/#/admin/reports")

        # The report's row opens the space's words around the report, each time a link.
        row = page.get_by_role("row").filter(has_text="harassment")
        await row.get_by_role("button", name="Transcript").click()
        excerpt = row.get_by_role("list", name=re.compile("Transcript around report"))
        await expect(excerpt.get_by_role("listitem")).to_have_count(3)
        await expect(excerpt.get_by_role("listitem").nth(2)).to_contain_text(
            "Alice: now about the garden"
        )
        lines = await (await page.context.request.get(
            f"{server.base_url}/api/v1/spaces/{sid}/recording/transcript"
        )).json()  # fmt: skip
        await check_a11y(page, axe_source, "admin: a report's transcript")
        link = excerpt.get_by_role("link").nth(2)
        await expect(link).to_have_attribute(
            "href", f"/#/spaces/{sid}/replay?t={lines[2]['start']:.1f}"
        )
        await link.click()
        await expect(page.get_by_role("heading", level=1, name="Words, recorded")).to_be_visible()
        await page.wait_for_function(
            f"() => Math.abs(parleyReplay.audio.currentTime - {lines[2]['start']:.1f}) < 0.2",
            timeout=10_000,
        )

        # The Transcripts tab finds words, with space, speaker and a link into the replay.
        await page.goto(f"{server.base_url}/#/admin/transcripts")
        await page.get_by_label("Find words").fill("weather")
        await page.get_by_role("button", name="Search").click()
        found = page.get_by_role("row").filter(has_text="the weather is fine")
        await expect(found).to_contain_text("Words, recorded")
        await expect(found).to_contain_text("Alice")
        await expect(found.get_by_role("link")).to_have_attribute(
            "href", f"/#/spaces/{sid}/replay?t={lines[1]['start']:.1f}"
        )
        await check_a11y(page, axe_source, "admin: transcripts found")


async def test_the_replay_is_on_the_lock_screen_to_skip_and_seek(
    words_server: ServerThread, words: str, launch: LaunchBrowser
) -> None:
    """The device's media controls (test_web_lock_screen.py presses them as the device would):
    the replay's title and host, play and pause, 10 s ahead and back, a point on the bar."""
    async with asyncio.timeout(60):
        page = await spied_page(launch, words_server.base_url, f"/spaces/{words}/replay")
        await until_playing(
            page, title="Words, recorded", artist="Hana Host", album="Parley · Replay"
        )
        assert {"play", "pause", "seekbackward", "seekforward", "seekto"} <= await offered(page)
        audio = "parleyReplay.audio"

        await press(page, "play")
        await expect(button(page, "Pause")).to_be_visible()
        await until_playing(page, state="playing")
        await press(page, "pause")
        await expect(button(page, "Play")).to_be_visible()
        await until_playing(page, state="paused")

        # Ten seconds ahead and back, as the lock screen's skip buttons do; a point on its bar.
        # (The recording is at least 11 s long.)
        await press(page, "seekto", seekTime=0.5)
        await page.wait_for_function(f"() => Math.abs({audio}.currentTime - 0.5) < 0.2")
        await press(page, "seekforward")
        await page.wait_for_function(f"() => Math.abs({audio}.currentTime - 10.5) < 0.2")
        position = page.get_by_label("Position", exact=True)
        assert abs(float(await position.input_value()) - 10.5) < 0.2  # the page's slider follows
        await press(page, "seekbackward", seekOffset=5)
        await page.wait_for_function(f"() => Math.abs({audio}.currentTime - 5.5) < 0.2")

        # Away from the replay, nothing is left on the lock screen.
        await page.get_by_role("link", name="Home", exact=True).click()
        await page.wait_for_function("() => navigator.mediaSession.metadata === null")
        assert await offered(page) == set()
