"""The admin console's audit log in real Chromium, past its first page: the newest hundred
entries, then older ones on asking, until the log's first entry is shown; a filtered log pages
by its own filter. (Its words and filter on a short log: test_web_a11y.)"""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, open_page, sign_in
from tests.support.moderation import admin
from tests.support.servers import ServerThread

SWITCHES = 104  # past one page (100) of the console


async def test_the_audit_log_pages_back_to_its_first_entry(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    mod = await admin(server, "mod")
    # The creation of spaces switched off and on again, each switch an entry of its own.
    for n in range(SWITCHES):
        on = n % 2 == 1
        body = {"enabled": on, "message": "" if on else "Back soon"}
        await mod.call("PUT", "/admin/features/spaces.create", 200, json=body)
    browser = await launch(None)
    page = await open_page(browser, base)
    await sign_in(page, "mod")
    await page.goto(f"{base}/#/admin/audit")
    rows = page.get_by_role("table", name="Audit log entries").locator("tbody tr")
    await expect(rows).to_have_count(100)
    await expect(rows.first.locator("td:nth-child(3)")).to_have_text("Feature switched on")

    await button(page, "Older entries").click()
    await expect(rows).to_have_count(SWITCHES)
    # The first entry of all, the first switch: off. The button says so and keeps the focus.
    await expect(rows.last.locator("td:nth-child(3)")).to_have_text("Feature switched off")
    done = button(page, "No older entries")
    await expect(done).to_be_focused()
    await expect(done).to_have_attribute("aria-disabled", "true")
    await page.keyboard.press("Enter")  # pressed again, it asks for nothing more
    await expect(rows).to_have_count(SWITCHES)
    await expect(done).to_be_focused()

    # Filtered to one kind: half of them, one page, nothing older to offer.
    await page.get_by_label("Action").select_option(label="Feature switched on")
    await button(page, "Filter").click()
    await expect(rows).to_have_count(SWITCHES // 2)
    await expect(page.locator(".panel .older")).to_be_hidden()
    await mod.close()
