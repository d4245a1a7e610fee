"""Live captions in the browser: a speaker (an aiortc client saying espeak-ng sentences) is
captioned under the stage of a listener's page, with their name; finals reach screen readers
through a polite log of their own; the toggle hides captions and is remembered. The screenshot
of captions is taken here."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import join_from_home, person, shoot
from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import ServerThread, serve, sqlite_url
from tests.support.speech import Speaker, say

pytestmark = pytest.mark.espeak

SENTENCE, WORDS = "we talk about music and movies", ("talk", "about", "music")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path), captions="pocketsphinx") as running:
        yield running


async def test_a_listener_sees_who_says_what_under_the_stage(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    host = await Person.sign_up(base, "hana", "Hana Host")
    bea = await Person.sign_up(base, "bea", "Bea Speaker")
    title = "Music and movies"
    sid = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
    await bea.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, bea, sid)
    lou = await person(await launch(None), base, "lou", "Lou Listener")
    await join_from_home(lou, title)
    toggle = lou.get_by_role("checkbox", name="Captions", exact=True)
    await expect(toggle).to_be_checked()  # on by default
    # Until someone speaks, the box says what it is for.
    idle = lou.get_by_text("What the speakers say shows here.")
    await expect(idle).to_be_visible()
    speech = Speaker()
    speaking = await MediaClient.connect(bea, sid, track=speech)
    try:
        lines = lou.locator(".caption-lines .caption")
        spoken = lou.get_by_role("log", name="Caption log")
        heard = False
        for _ in range(5):  # a loaded machine may garble a phrase: say it again
            await asyncio.sleep(speech.play(say(SENTENCE, voice="en+f3")))
            for _ in range(60):
                said = await spoken.inner_text()
                if any(word in said.split() for word in WORDS):
                    heard = True
                    break
                await asyncio.sleep(0.25)
            if heard:
                break
        assert heard, await spoken.inner_text()
        assert "Bea Speaker: " in await spoken.inner_text()
        await expect(lines.first).to_contain_text("Bea Speaker: ")
        await expect(idle).to_be_hidden()
        await shoot(lou, "captions")
        # Off: hidden, and still off after a reload.
        await toggle.uncheck()
        await expect(lou.locator(".captions")).to_be_hidden()
        await lou.reload()
        await expect(lou.get_by_role("checkbox", name="Captions", exact=True)).not_to_be_checked()
        await expect(lou.locator(".captions")).to_be_hidden()
    finally:
        await speaking.close()
