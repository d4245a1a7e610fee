"""Why a space ended, said in the room to whoever is in it, in real Chromium: the admins' message
when they take Spaces offline, a host who could not go on with no cohost to take over, and a
moderator ending a reported space from the reports queue. Leaving, then going elsewhere before
the leave is answered, keeps the page gone to, even when the app hears of it after the answer.
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import (
    answered_late,
    audience_member,
    button,
    join_from_home,
    open_page,
    person,
    sign_in,
    stage_member,
)
from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread, wait_until


async def told_it_ended(page: Page, because: str) -> None:
    await expect(page.get_by_role("heading", level=1, name="This space has ended")).to_be_visible()
    await expect(page.locator("main .ended-because")).to_have_text(because)


async def test_the_room_says_why_its_space_ended(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    mod = await admin(server, "mod")
    hana = await Person.sign_up(base, "hana", "Hana Host")
    browser = await launch(None)
    lou = await person(browser, base, "lou", "Lou Listener")

    await hana.call("POST", "/spaces", 201, json={"title": "Late set"})
    await join_from_home(lou, "Late set")
    switch = {"enabled": False, "message": "Upgrading the servers, back at 3 pm"}
    await mod.call("PUT", "/admin/features/spaces", 200, json=switch)
    await told_it_ended(
        lou, "Parley's admins took Spaces offline: Upgrading the servers, back at 3 pm"
    )
    await mod.call("PUT", "/admin/features/spaces", 200, json={"enabled": True, "message": ""})

    await hana.call("POST", "/spaces", 201, json={"title": "Early set"})
    await join_from_home(lou, "Early set")
    limit = {"rule": "spam", "reason": "Advertising in every space"}
    await mod.call("POST", "/admin/accounts/hana/limit", 200, json=limit)
    await told_it_ended(lou, "Its host could not go on hosting, and no cohost could take over.")
    await mod.call("POST", "/admin/accounts/hana/unlimit", 200, json={"reason": "Served"})

    # Reported, and ended by a moderator from the queue: its page is taken down too.
    space = await hana.call("POST", "/spaces", 201, json={"title": "Last set"})
    await join_from_home(lou, "Last set")
    reporter = await Person.sign_in(base, "lou")
    report = {"target_type": "space", "target_id": space["id"], "rule": "hate"}
    await reporter.call("POST", "/reports", 201, json={**report, "comment": "Slurs"})
    queue = await open_page(browser, base)
    await sign_in(queue, "mod")
    await queue.get_by_role("link", name="Admin", exact=True).click()
    sections = queue.get_by_role("navigation", name="Admin sections")
    await sections.get_by_role("link", name="Reports").click()
    row = queue.get_by_role("row").filter(has_text="Slurs")
    await button(row, "End space").click()
    form = row.get_by_role("form", name=re.compile(r"^End space reported in report"))
    await form.get_by_label("Reason", exact=True).fill("Slurs from the stage")
    await button(form, "Confirm removal").click()
    await expect(queue.get_by_text("The queue is empty.")).to_be_visible()
    await expect(queue.locator("#announcements")).to_have_text(
        "Space ended and the report resolved as actioned"
    )
    await told_it_ended(lou, "A moderator ended it.")
    await reporter.refused("GET", f"/spaces/{space['id']}", 410, "space_removed")
    for client in (mod, hana, reporter):
        await client.close()


async def test_after_a_handover_the_host_who_went_is_not_listed_as_a_listener(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """The host's socket goes and their grace period runs out: the cohost is the host now, and
    the room lists the old host nowhere (they are not in it), not in the audience."""
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    cid = await Person.sign_up(base, "cid", "Cid Cohost")
    browser = await launch(None)
    lou = await person(browser, base, "lou", "Lou Listener")
    sid = (await hana.call("POST", "/spaces", 201, json={"title": "Handed on"}))["id"]
    await cid.call("POST", f"/spaces/{sid}/join", 200)
    await hana.call("POST", f"/spaces/{sid}/cohosts/cid", 204)
    await join_from_home(lou, "Handed on")
    # Cid's socket keeps them in the room as long as the checks run (alone there, the new host
    # would be away too, and the space would end a grace period later).
    async with cid.events(sid) as cid_socket:
        async with hana.events(sid) as hana_socket:
            await hana_socket.wait_for("snapshot")
            await expect(stage_member(lou, "hana")).to_be_visible()
        # Hana's only socket closed: away, then past the grace period (one second here).
        await cid_socket.wait_for("host_changed", timeout=10)
        await expect(stage_member(lou, "cid")).to_contain_text("Host")
        await expect(stage_member(lou, "hana")).to_have_count(0)
        await expect(audience_member(lou, "lou")).to_be_visible()
        await expect(audience_member(lou, "hana")).to_have_count(0)
    for client in (hana, cid):
        await client.close()


async def test_a_page_gone_to_while_leaving_stays(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """Lou presses Leave and, before the server answers, opens Notifications: the leave's answer
    must not take Lou home from there (it did: home drew over the page Lou had opened)."""
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    lou = await person(await launch(None), base, "lou", "Lou Listener")
    sid = (await hana.call("POST", "/spaces", 201, json={"title": "Quick visit"}))["id"]
    await join_from_home(lou, "Quick visit")
    leave = re.compile(r"/api/v1/spaces/\w+/leave$")
    await answered_late(lou, leave)
    async with lou.expect_response(leave) as answered:
        await button(lou, "Leave").click()
        await (
            lou.get_by_role("navigation", name="Main")
            .get_by_role("link", name=re.compile(r"^Notifications"))
            .click()
        )
        await expect(lou.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    assert (await answered.value).ok
    await asyncio.sleep(0.5)  # past the answer: whatever it would draw is drawn
    await expect(lou.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    assert lou.url.endswith("#/notifications")

    async def lou_gone() -> bool:
        space = await hana.call("GET", f"/spaces/{sid}", 200)
        return bool(space["listener_count"] == 0)

    await wait_until(lou_gone)

    # Again, but the address changes and the app hears of it only after the leave's answer (a
    # loaded machine ran them in that order: the answer took Lou home from Start a space).
    # Here the page's hashchange comes once the answer is handled.
    await join_from_home(lou, "Quick visit")
    async with lou.expect_response(leave) as answered:
        await button(lou, "Leave").click()
        # pushState changes the address without telling the app (no hashchange), as if the
        # event were still queued.
        await lou.evaluate("() => history.pushState(null, '', '#/new')")
    assert (await answered.value).ok
    await asyncio.sleep(0.5)  # past the answer: whatever it would draw is drawn
    await lou.evaluate("() => window.dispatchEvent(new HashChangeEvent('hashchange'))")
    await expect(lou.get_by_role("heading", level=1, name="Start a space")).to_be_visible()
    assert lou.url.endswith("#/new")
    await wait_until(lou_gone)
    await hana.close()
