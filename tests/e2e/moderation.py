"""Moderation screens in e2e tests: an account's admin-console row, a notification to Notices."""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.e2e.pages import button


async def account_row(mod: Page, handle: str, search: str | None = None) -> Locator:
    """The account's row once the search for it (`search`, or the whole handle) has been drawn:
    the table is drawn anew when a search answers, and a form opened in the one before would be
    gone (CI once clicked Limit in the first list, the one the page shows on opening)."""
    await expect(mod.get_by_role("table", name="Accounts found")).to_be_visible()
    await mod.get_by_label("Find accounts").fill(search or handle)
    searching = button(mod, "Search")
    await searching.click()
    await expect(searching).not_to_have_attribute("aria-busy", "true")
    return mod.get_by_role("row").filter(has_text=f"@{handle}")


async def follow_notification_to_notices(page: Page, says: str) -> None:
    """The newest notification says what a moderator did; its link leads to the notice."""
    await (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name=re.compile(r"^Notifications"))
        .click()
    )
    told = page.get_by_role("list", name="Notifications").get_by_role("listitem").first
    await expect(told.locator(".what")).to_have_text(says)
    await told.get_by_role("link", name="See why and appeal").click()
    await expect(page.get_by_role("heading", level=1, name="Notices")).to_be_focused()
