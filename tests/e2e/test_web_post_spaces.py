"""A space shared in a post, in real Chromium: the host posts about a live space from its room and
about a scheduled one from its page; a follower finds both under the posts on the home page as
cards, joins the live one from its card and sets a reminder on the other; once the live space
ends, its card and its room say so, with how many tuned in. Leaves docs/screenshots/post-space.png.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from playwright.async_api import Locator, Page, expect

from tests.e2e.a11y import Axe, check_a11y
from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import audience_member, button, open_page, shoot, sign_in
from tests.support.clients import Person
from tests.support.servers import ServerThread


def shared_card(page: Page, post_text: str, title: str) -> Locator:
    """The card of the space titled `title` under the post that says `post_text`."""
    post = page.get_by_role("list", name="Posts").get_by_role("listitem").filter(has_text=post_text)
    return post.get_by_role("article", name=title)


async def post_about(page: Page, text: str) -> None:
    """The "Post about this space" fold: prefilled with the title, replaced by `text`."""
    await page.get_by_text("Post about this space", exact=True).click()
    box = page.get_by_label("Post text", exact=True)
    await expect(box).to_have_value(re.compile("^Listening to “"))
    await box.fill(text)
    await button(page, "Post").click()
    await expect(box).to_be_hidden()  # posted: the fold closes


async def test_a_follower_joins_and_is_reminded_from_spaces_shared_in_posts(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    fan = await Person.sign_up(base, "fan", "Fan")
    await fan.call("POST", "/accounts/hana/follow", 204)
    live = (await hana.call("POST", "/spaces", 201, json={"title": "Garden talk"}))["id"]
    soon = (server.node.clock.now() + timedelta(days=1)).isoformat()
    body = {"title": "Seed swap", "scheduled_start": soon}
    later = (await hana.call("POST", "/spaces", 201, json=body))["id"]
    async with asyncio.timeout(90):
        browser = await launch(None)
        host = await open_page(browser, base, "/")
        await sign_in(host, "hana")
        await host.goto(f"{base}/#/spaces/{later}")
        await expect(host.get_by_role("heading", level=1, name="Seed swap")).to_be_visible()
        await post_about(host, "Bring seeds tomorrow")
        await host.goto(f"{base}/#/spaces/{live}")  # the host stays in the room from here
        await expect(host.get_by_role("heading", level=1, name="Garden talk")).to_be_visible()
        await post_about(host, "Come talk tomatoes")

        page = await open_page(browser, base, "/")
        await sign_in(page, "fan")
        garden = shared_card(page, "Come talk tomatoes", "Garden talk")
        seeds = shared_card(page, "Bring seeds tomorrow", "Seed swap")
        await expect(garden).to_contain_text("Live")
        await expect(garden).to_contain_text("Hosted by Hana Host")
        await button(seeds, "Remind me").click()
        await expect(button(seeds, "Cancel reminder")).to_be_visible()
        assert (await fan.call("GET", f"/spaces/{later}", 200))["reminded"] is True
        await check_a11y(page, axe_source, "home with spaces shared in posts")
        await page.evaluate("document.getElementById('posts-heading').scrollIntoView()")
        await page.evaluate("scrollBy(0, -72)")  # from under the sticky header
        await shoot(page, "post-space")

        # Join from the card: the room, and the host sees the fan in the audience.
        await button(garden, "Join").click()
        await expect(page.get_by_role("heading", level=1, name="Garden talk")).to_be_visible()
        await expect(audience_member(host, "fan")).to_be_visible()
        await button(page, "Leave").click()
        await expect(garden).to_contain_text("Live")  # home again, before the space ends

        # Ended: the card says so, with who tuned in, and offers no Join; so does the room.
        await hana.call("POST", f"/spaces/{live}/end", 200)
        audience = "2 people tuned in · at most 1 listener at once"
        await expect(host.get_by_role("heading", name="This space has ended")).to_be_visible()
        await expect(host.get_by_text(audience)).to_be_visible()
        await page.reload()
        await expect(garden).to_contain_text("Ended")
        await expect(garden).to_contain_text(audience)
        await expect(button(garden, "Join")).to_have_count(0)
    for person in (hana, fan):
        await person.close()
