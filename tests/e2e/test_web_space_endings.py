"""Why a space ended, said in the room to whoever is in it, in real Chromium: the admins' message
when they take Spaces offline, and a host who could not go on with no cohost to take over.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.test_web_space import join_from_home, person
from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread


async def told_it_ended(page: Page, because: str) -> None:
    await expect(page.get_by_role("heading", level=1, name="This space has ended")).to_be_visible()
    await expect(page.locator("main .ended-because")).to_have_text(because)


async def test_the_room_says_why_its_space_ended(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    mod = await admin(server, "mod")
    hana = await Person.sign_up(base, "hana", "Hana Host")
    lou = await person(await launch(None), base, "lou", "Lou Listener")

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
    for client in (mod, hana):
        await client.close()
