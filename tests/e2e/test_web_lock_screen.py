"""The device's own media controls (lock screen, notification, headset and media keys), through
the Media Session API, in real Chromium.

No operating system presses the buttons here: an init script keeps each action handler the page
gives Chromium, and the test calls it as the lock screen would (with its details), then looks at
what a person would notice: the room's sound off and the "Turn on sound" button, the mic as the
server has it, having left the space. The replay's controls are tested in test_web_replay.py,
on the recording made there once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.media_session import HOLD_NEXT_PLAY, offered, press, spied_page, until_playing
from tests.e2e.pages import button, sign_in, stage_member
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import ServerThread


async def now_playing(page: Page) -> dict[str, Any] | None:
    shown: dict[str, Any] | None = await page.evaluate(
        """() => {
            const m = navigator.mediaSession.metadata;
            return m && { title: m.title, artist: m.artist, album: m.album,
                          artwork: m.artwork.map((a) => a.src),
                          state: navigator.mediaSession.playbackState };
        }"""
    )
    return shown


async def stage_entry(host: Person, sid: str, account_id: str) -> dict[str, Any] | None:
    space = await host.call("GET", f"/spaces/{sid}", 200)
    return next((p for p in space["stage"] if p["account_id"] == account_id), None)


async def test_a_room_on_the_lock_screen_pauses_toggles_the_mic_and_hangs_up(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    bob = await Person.sign_up(base, "bob", "Bob")
    sid: str = (await hana.call("POST", "/spaces", 201, json={"title": "Morning show"}))["id"]
    async with asyncio.timeout(90):
        page = await spied_page(launch, base, "/")
        await sign_in(page, "bob")
        await page.goto(f"{base}/#/spaces/{sid}")
        # The space's own page first: until it replaces home, "Join" is also the home card's
        # (the page is there, signed in), and a click as home goes lands on neither.
        await expect(page.get_by_role("heading", level=1, name="Morning show")).to_be_visible()
        await button(page, "Join").click()
        await expect(button(page, "Leave")).to_be_visible(timeout=15_000)  # in the room
        await until_playing(
            page, title="Morning show", artist="Hana Host", album="Parley · Live", state="playing"
        )
        shown = await now_playing(page)
        assert shown is not None and shown["artwork"] == [f"{base}/icon-512.png"]
        # In the audience: pause and play, and hang up; no mic to toggle.
        assert await offered(page) == {"play", "pause", "hangup"}

        # Pause: the sound stops on this device, and the page says how to bring it back.
        player = page.locator(".room audio")
        await press(page, "pause")
        await expect(player).to_have_js_property("muted", True)
        await expect(button(page, "Turn on sound")).to_be_visible()
        await until_playing(page, state="paused")
        await press(page, "play")
        await expect(player).to_have_js_property("muted", False)
        await expect(button(page, "Turn on sound")).to_be_hidden()
        await until_playing(page, state="playing")

        # A new title reaches the lock screen too.
        await hana.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Morning show, part 2"})
        await until_playing(page, title="Morning show, part 2")

        # Play pressed just as the media connection is replaced (Bob brought on stage): the new
        # connection's play() interrupts the pressed one. The lock screen follows the sound, not
        # the interrupted call (it once stayed "paused" over a room that played).
        await press(page, "pause")
        await until_playing(page, state="paused")
        await page.evaluate(HOLD_NEXT_PLAY)
        await press(page, "play")
        await bring_on_stage(hana, bob, sid)  # it unmutes him, too
        await expect(button(page, "Mute")).to_be_visible()
        await until_playing(page, state="playing")
        await expect(button(page, "Turn on sound")).to_be_hidden()
        await page.evaluate("window.interruptPlay()")
        await expect(player).to_have_js_property("paused", False)
        await until_playing(page, state="playing")
        await expect(button(page, "Turn on sound")).to_be_hidden()

        # On stage: the mic control mutes and unmutes, as the server sees.
        assert "togglemicrophone" in await offered(page)
        await press(page, "togglemicrophone")
        await expect(button(page, "Unmute")).to_be_visible()
        assert (await stage_entry(hana, sid, bob.id) or {}).get("muted") is True
        await press(page, "togglemicrophone")
        await expect(button(page, "Mute")).to_be_visible()
        assert (await stage_entry(hana, sid, bob.id) or {}).get("muted") is False

        # Hang up: Bob leaves the space (it goes on), and the controls go away.
        await press(page, "hangup")
        await expect(page.get_by_role("heading", level=1, name="Hello, Bob")).to_be_visible()
        await expect(stage_member(page, "bob")).to_have_count(0)
        assert await stage_entry(hana, sid, bob.id) is None
        assert (await hana.call("GET", f"/spaces/{sid}", 200))["state"] == "live"
        assert await now_playing(page) is None
        assert await offered(page) == set()
    for person in (hana, bob):
        await person.close()
