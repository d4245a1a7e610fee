"""What each role sees in a live space: the host, a cohost and a speaker on their own pages, with a
listener whose hand is up. The page offers a control only where the server's permission table
allows the action (parley/web/js/permissions.js mirrors it; tests/unit/test_permissions_mirror.py
keeps the two equal), so here each role's buttons are listed exactly, person by person.
"""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import (
    audience_member,
    button,
    join_from_home,
    person,
    space_id,
    stage_member,
    start_space,
)
from tests.support.clients import Person
from tests.support.servers import ServerThread


def tools(item: Locator) -> Locator:
    return item.get_by_role("button")


def request(page: Page, handle: str) -> Locator:
    return page.get_by_role("list", name="Requests").get_by_role("listitem").filter(has_text=handle)


def queue(page: Page) -> Locator:
    return page.get_by_role("heading", name=re.compile("Requests to speak"))


async def on_stage_by_request(host: Page, page: Page, handle: str) -> None:
    await button(page, "Request to speak").click()
    await button(request(host, f"@{handle}"), "Approve").click()
    await button(page, "Unmute").click()
    await expect(stage_member(host, handle)).to_contain_text("Mic on")


async def test_each_role_is_offered_what_the_server_allows_it(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    browser = await launch(None)
    host = await person(browser, base, "hana", "Hana Host")
    cid = await person(browser, base, "cid", "Cid Cohost")
    sam = await person(browser, base, "sam", "Sam Speaker")
    await start_space(host, "Who may do what")
    await button(host, "Unmute").click()
    for page in (cid, sam):
        await join_from_home(page, "Who may do what")
    await on_stage_by_request(host, cid, "cid")
    await on_stage_by_request(host, sam, "sam")

    lou = await Person.sign_up(base, "lou", "Lou Listener")
    sid = await space_id(host)
    await lou.call("POST", f"/spaces/{sid}/join", 200)
    async with lou.events(sid):
        # Lou's hand goes up while Cid is still a speaker; Cid is made cohost after it.
        await lou.call("POST", f"/spaces/{sid}/hand", 204)
        await expect(request(host, "@lou")).to_be_visible()
        await button(stage_member(host, "cid"), "Make cohost").click()
        for page in (host, cid, sam):
            await expect(stage_member(page, "cid")).to_contain_text("Cohost")
            await expect(stage_member(page, "hana")).to_contain_text("Mic on")
            await expect(audience_member(page, "lou")).to_contain_text("hand raised")

        # The host: everything on everyone else; ends the space, never leaves the stage.
        await expect(tools(stage_member(host, "hana"))).to_have_count(0)
        await expect(tools(stage_member(host, "cid"))).to_have_text(
            ["Mute", "Demote to speaker", "Move to audience", "Remove"]
        )
        await expect(tools(stage_member(host, "sam"))).to_have_text(
            ["Mute", "Make cohost", "Move to audience", "Remove"]
        )
        await expect(tools(request(host, "@lou"))).to_have_text(["Approve", "Deny"])
        await expect(tools(audience_member(host, "lou"))).to_have_text(["Remove"])
        await expect(host.get_by_text("Edit title")).to_be_visible()
        await expect(button(host, "End space")).to_be_visible()
        await expect(button(host, "Leave the stage")).to_have_count(0)
        await expect(host.get_by_role("group", name="Reactions")).to_have_count(0)

        # A cohost: not on the host, nothing on cohosts; answers requests it saw before its
        # promotion; edits the title; may leave the stage but not end the space.
        await expect(tools(stage_member(cid, "hana"))).to_have_count(0)
        await expect(tools(stage_member(cid, "cid"))).to_have_count(0)
        await expect(tools(stage_member(cid, "sam"))).to_have_text(
            ["Mute", "Move to audience", "Remove"]
        )
        await expect(tools(request(cid, "@lou"))).to_have_text(["Approve", "Deny"])
        await expect(tools(audience_member(cid, "lou"))).to_have_text(["Remove"])
        await expect(cid.get_by_text("Edit title")).to_be_visible()
        await expect(button(cid, "Leave the stage")).to_be_visible()
        await expect(button(cid, "End space")).to_have_count(0)
        await expect(cid.get_by_role("group", name="Reactions")).to_have_count(0)

        # A speaker: nothing on anyone, no queue, no title; reacts and may leave the stage.
        for handle in ("hana", "cid", "sam"):
            await expect(tools(stage_member(sam, handle))).to_have_count(0)
        await expect(tools(audience_member(sam, "lou"))).to_have_count(0)
        await expect(queue(sam)).to_be_hidden()
        await expect(sam.get_by_text("Edit title")).to_be_hidden()
        await expect(button(sam, "Leave the stage")).to_be_visible()
        await expect(button(sam, "End space")).to_have_count(0)
        await expect(sam.get_by_role("group", name="Reactions")).to_be_visible()

        # Demoted, Cid is a speaker again and loses what came with being cohost.
        await button(stage_member(host, "cid"), "Demote to speaker").click()
        await expect(stage_member(cid, "cid")).to_contain_text("Speaker")
        await expect(tools(stage_member(cid, "sam"))).to_have_count(0)
        await expect(queue(cid)).to_be_hidden()
        await expect(cid.get_by_text("Edit title")).to_be_hidden()
        await expect(cid.get_by_role("group", name="Reactions")).to_be_visible()
    await lou.close()
