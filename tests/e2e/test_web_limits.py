"""A moderator limits an account from the admin console, in real Chromium: the room it is
listening in shows the limit at once, it is told by a notification, reads why on Notices and
appeals there, and is told why when it tries to start a space; the moderator lifts the limit
from the same row. A moderator limited by another is told at the console's top that another
moderator acts, and an action tried anyway is refused with the reason.
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from tests.e2e.a11y import Axe, check_a11y
from tests.e2e.browser import LaunchBrowser
from tests.e2e.moderation import account_row, follow_notification_to_notices
from tests.e2e.pages import answered_late, button, join_from_home, open_page, person, sign_in
from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread

REASON = "Advertising in every space"


async def test_a_limit_set_told_appealed_and_lifted_in_the_web_client(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    moderator = await admin(server, "mod")
    hana = await Person.sign_up(base, "hana", "Hana Host")
    browser = await launch(None)
    lee = await person(browser, base, "lee", "Lee Listener")
    mod = await open_page(browser, base)
    await sign_in(mod, "mod")
    await mod.get_by_role("link", name="Admin", exact=True).click()
    # Lee listens in Hana's live space as the limit comes.
    await hana.call("POST", "/spaces", 201, json={"title": "Open mic"})
    await join_from_home(lee, "Open mic")
    await expect(button(lee, "Request to speak")).to_be_visible()

    row = await account_row(mod, "lee")
    await button(row, "Limit").click()
    await expect(button(row, "Limit")).to_have_attribute("aria-expanded", "true")
    await expect(row.get_by_label("Rule", exact=True)).to_be_focused()
    await row.get_by_label("Reason", exact=True).fill(REASON)
    await check_a11y(mod, axe_source, "admin: limit an account")
    await button(row, "Confirm limit").click()
    await expect(row.get_by_text("limited", exact=True)).to_be_visible()
    await expect(mod.locator("#announcements")).to_have_text(
        "@lee is limited (listening and reading only)"
    )
    await expect(button(row, "Unlimit")).to_be_visible()
    await expect(button(row, "Suspend")).to_be_visible()
    # Lee's open room shows it at once, without Lee trying anything.
    await expect(lee.locator(".limited-note")).to_contain_text("Your account is limited")
    await expect(button(lee, "Request to speak")).to_have_count(0)
    await button(lee, "Leave").click()

    # Lee is told, reads why and appeals.
    await follow_notification_to_notices(
        lee,
        "Unread: A moderator limited your account under spam: you can listen and read, but not "
        "post, host, speak or react.",
    )
    notice = lee.get_by_role("article", name="Account limited")
    await expect(notice.get_by_text(REASON, exact=True)).to_be_visible()
    await notice.get_by_label("Your appeal").fill("I only shared my own show once.")
    await button(notice, "Send appeal").click()
    await expect(notice.get_by_text("Appeal sent.")).to_be_focused()

    # A room opened while limited says so from the start: no asking to speak, no reactions.
    await join_from_home(lee, "Open mic")
    await expect(lee.locator(".limited-note")).to_contain_text(
        "Your account is limited: you can listen, but not speak or react."
    )
    await expect(button(lee, "Request to speak")).to_have_count(0)
    await expect(lee.get_by_role("group", name="Reactions")).to_have_count(0)
    await button(lee, "Leave").click()

    # Starting a space is refused, saying why.
    await button(lee, "Start a space").click()
    await lee.get_by_label("Title").fill("My show")
    await button(lee, "Start now").click()
    refused = lee.locator("main").get_by_role("alert")
    await expect(refused).to_contain_text("Your account is limited")

    # Lifted from the same row: active again, and Lee can start the space.
    await button(row, "Unlimit").click()
    await row.get_by_label("Reason", exact=True).fill("Appeal read: a single share")
    await button(row, "Confirm unlimit").click()
    await expect(row.get_by_text("active", exact=True)).to_be_visible()
    await button(lee, "Start now").click()
    await expect(lee.get_by_role("heading", level=1, name="My show")).to_be_visible()
    assert re.search(r"#/spaces/\w+$", lee.url)
    # Both counted in the public transparency report, in words.
    await lee.goto(f"{base}/#/transparency")
    report = lee.get_by_role("table", name="Moderation actions per month, action and rule")
    await expect(report.get_by_role("row").filter(has_text="Account limited")).to_contain_text(
        "spam"
    )
    await expect(report.get_by_role("row").filter(has_text="Limit lifted")).to_be_visible()
    # A suspension over a limit: the console says the limit waits under it.
    sam = await Person.sign_up(base, "sam")
    body = {"rule": "spam", "reason": REASON}
    await moderator.call("POST", "/admin/accounts/sam/limit", 200, json=body)
    await moderator.call("POST", "/admin/accounts/sam/suspend", 200, json=body)
    row = await account_row(mod, "sam")
    await expect(row.get_by_text("suspended", exact=True)).to_be_visible()
    await expect(row.get_by_text("then limited", exact=True)).to_be_visible()
    for client in (moderator, hana, sam):
        await client.close()
    lee_api = await Person.sign_in(base, "lee")
    assert (await lee_api.call("GET", "/me", 200))["state"] == "active"
    await lee_api.close()


async def test_a_search_answered_before_the_first_list_keeps_its_answer(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """The console's first list (every account) answering after the moderator's search must not
    be drawn over it: she searched for @lee and would act on whoever the list then showed."""
    base = server.base_url
    moderator = await admin(server, "mod")
    lee = await Person.sign_up(base, "lee", "Lee Listener")
    mod = await open_page(await launch(None), base)
    await sign_in(mod, "mod")
    first_list = re.compile(r"/api/v1/admin/accounts\?q=&")
    await answered_late(mod, first_list)
    async with mod.expect_response(first_list) as first:
        await mod.get_by_role("link", name="Admin", exact=True).click()
        await mod.get_by_label("Find accounts").fill("lee")
        await button(mod, "Search").click()
        found = mod.get_by_role("table", name="Accounts found")
        await expect(found.get_by_role("row").filter(has_text="@lee")).to_be_visible()
    await first.value
    await asyncio.sleep(0.5)  # past the first list's answer: whatever it would draw is drawn
    await expect(found.get_by_role("row").filter(has_text="@lee")).to_be_visible()
    await expect(found.get_by_role("row").filter(has_text="@mod")).to_have_count(0)
    for client in (moderator, lee):
        await client.close()


async def test_a_limited_moderator_is_told_in_the_console_that_another_acts(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    """A moderator limited by another reads the console, but each action would be refused: the
    console says so on opening, and an action tried anyway is refused with the reason."""
    base = server.base_url
    boss = await admin(server, "boss")
    await admin(server, "mod")
    lee = await Person.sign_up(base, "lee", "Lee Listener")
    mod = await open_page(await launch(None), base)
    await sign_in(mod, "mod")
    await mod.get_by_role("link", name="Admin", exact=True).click()
    await expect(mod.get_by_role("heading", name="Accounts")).to_be_visible()
    limited = mod.locator(".banner.warn")
    await expect(limited).to_have_count(0)

    body = {"rule": "spam", "reason": REASON}
    await boss.call("POST", "/admin/accounts/mod/limit", 200, json=body)
    await mod.reload()
    await expect(limited).to_have_text(
        "Your account is limited: you can read this console and its queues, but another "
        "moderator takes every action. See why"
    )
    await check_a11y(mod, axe_source, "admin: a limited moderator")
    row = await account_row(mod, "lee")
    await button(row, "Limit").click()
    await row.get_by_label("Reason", exact=True).fill(REASON)
    await button(row, "Confirm limit").click()
    await expect(row.get_by_role("alert")).to_contain_text(
        "you can read the moderation queues but not act on them"
    )
    assert (await lee.call("GET", "/me", 200))["state"] == "active"
    await limited.get_by_role("link", name="See why").click()
    notice = mod.get_by_role("article", name="Account limited")
    await expect(notice.get_by_text(REASON, exact=True)).to_be_visible()
    for client in (boss, lee):
        await client.close()
