"""The router in real Chromium: a screen overtaken by another before it finished (a Join pressed on
a home card while the page was already on its way to that space) never shows beside the new one:
one room, one control bar, one audio element.

Found by the lock-screen test under load: two rooms of one space stacked on one page, each with
its event socket, audio and control bar.
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import answered_late, button, open_page, sign_in
from tests.support.clients import Person
from tests.support.servers import ServerThread


async def test_a_join_overtaken_by_the_same_route_gives_one_room(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    await Person.sign_up(base, "bob", "Bob")
    sid = (await hana.call("POST", "/spaces", 201, json={"title": "Morning show"}))["id"]
    async with asyncio.timeout(60):
        page = await open_page(await launch(None), base, "/")
        await sign_in(page, "bob")
        card = page.get_by_role("article", name="Morning show")
        await expect(card).to_be_visible()

        # Bob presses Join on the card (its join takes 0.5 s), and meanwhile the page goes to the
        # space another way; reading the space takes 0.8 s. So the space screen learns that Bob
        # has joined (and enters the room) while the card, its join done, routes there again.
        await answered_late(page, re.compile(rf"/api/v1/spaces/{sid}/join$"), 0.5)
        await answered_late(page, re.compile(rf"/api/v1/spaces/{sid}$"), 0.8)
        await button(card, "Join").click()
        await page.goto(f"{base}/#/spaces/{sid}")

        await expect(button(page, "Leave")).to_be_visible(timeout=15_000)
        await asyncio.sleep(1.0)  # past the slow reads: whatever they would add is added by now
        await expect(page.get_by_role("heading", level=1, name="Morning show")).to_have_count(1)
        await expect(button(page, "Leave")).to_have_count(1)
        await expect(page.locator("audio")).to_have_count(1)
    await hana.close()
