"""A host moves a scheduled space and then calls it off, from its page in real Chromium; a person
who set a reminder reads both in Notifications.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, open_page, sign_in
from tests.support.clients import Person
from tests.support.servers import ServerThread


async def test_a_host_moves_then_cancels_a_space_and_the_reminded_are_told(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    ada = await Person.sign_up(base, "ada", "Ada")
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {"title": "Book club", "scheduled_start": soon}
    sid = (await hana.call("POST", "/spaces", 201, json=body))["id"]
    await ada.call("POST", f"/spaces/{sid}/reminders", 204)
    later = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    async with asyncio.timeout(60):
        browser = await launch(None)
        host = await open_page(browser, base, "/", timezone_id="UTC")
        await sign_in(host, "hana")
        await host.goto(f"{base}/#/spaces/{sid}")
        await host.get_by_text("Change time", exact=True).click()
        await host.get_by_label("New start").fill(later.strftime("%Y-%m-%dT%H:%M"))
        await button(host, "Save time").click()
        starts = later.strftime("%b %-d, %Y")  # as the page's badge writes the date (en-US)
        await expect(host.get_by_text(f"Starts {starts}")).to_be_visible()
        shown = await hana.call("GET", f"/spaces/{sid}", 200)
        assert datetime.fromisoformat(shown["scheduled_start"]) == later

        reader = await open_page(browser, base, "/", timezone_id="UTC")
        await sign_in(reader, "ada")
        await reader.goto(f"{base}/#/notifications")
        notices = reader.get_by_role("list", name="Notifications").get_by_role("listitem")
        await expect(notices.filter(has_text="“Book club” moved to")).to_contain_text(starts)

        # Called off: asked once more in place, then gone from home, and Ada is told.
        await button(host, "Cancel space").click()
        await button(host, "Cancel it for everyone").click()
        await expect(host.get_by_role("heading", level=1, name="Hello, Hana Host")).to_be_visible()
        assert (await hana.call("GET", f"/spaces/{sid}", 200))["state"] == "cancelled"
        await reader.reload()
        await expect(notices.filter(has_text="“Book club” was cancelled")).to_be_visible()
    for person in (hana, ada):
        await person.close()


async def test_a_space_past_its_time_says_it_is_late(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """Not "Starts" a time gone by: the host may still go live until the server calls it off
    (tests/integration/test_reschedule.py), and everyone sees that it is late."""
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
    body = {"title": "Book club", "scheduled_start": start.isoformat()}
    sid = (await hana.call("POST", "/spaces", 201, json=body))["id"]
    async with asyncio.timeout(60):
        browser = await launch(None)
        page = await open_page(browser, base, "/", timezone_id="UTC")
        await sign_in(page, "hana")
        badge = f"{start.strftime('%b %-d, %Y')}, {start.strftime('%-I:%M %p')}"
        await expect(page.get_by_text(badge, exact=True)).to_be_visible()  # the home card
        await page.goto(f"{base}/#/spaces/{sid}")
        await expect(page.get_by_text(f"Starts {badge}", exact=True)).to_be_visible()

        await page.clock.set_system_time(start + timedelta(hours=2))  # the page's Date.now
        await page.reload()
        await expect(page.get_by_text(f"Was due {badge}", exact=True)).to_be_visible()
        await expect(page.get_by_role("button", name="Go live")).to_be_visible()
        await page.goto(f"{base}/#/")
        await expect(page.get_by_text(f"Was due {badge}", exact=True)).to_be_visible()
    await hana.close()
