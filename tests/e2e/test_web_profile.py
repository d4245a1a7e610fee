"""A host's profile lists their spaces: live now (Join), coming up (a reminder), past (the
recording, when there is one). The screenshot is docs/screenshots/profile.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.test_web_space import button, person, shoot
from tests.support.clients import Person
from tests.support.servers import ServerThread


async def test_a_hosts_profile_lists_their_spaces(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    host = await Person.sign_up(server.base_url, "mara", "Mara Quinn")
    await host.call("PATCH", "/accounts/me", 200, json={"bio": "Weekly talks on city cycling."})
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    await host.call(
        "POST", "/spaces", 201, json={"title": "Bike lanes Q&A", "scheduled_start": later}
    )
    past = await host.call(
        "POST", "/spaces", 201, json={"title": "Winter riding", "recording": True}
    )
    await host.call("POST", f"/spaces/{past['id']}/end", 200)
    await host.call("POST", "/spaces", 201, json={"title": "Ask me about e-bikes"})
    await host.call("POST", "/posts", 201, json={"text": "Live now: e-bikes, ask anything"})

    page = await person(await launch(None), server.base_url, "lou", "Lou")
    await page.goto(f"{server.base_url}/#/u/mara")
    spaces = page.get_by_role("region", name="Spaces")
    live = spaces.get_by_role("list", name="Live now")
    await expect(live.get_by_role("article", name="Ask me about e-bikes")).to_be_visible()
    coming = spaces.get_by_role("list", name="Coming up")
    card = coming.get_by_role("article", name="Bike lanes Q&A")
    await button(card, "Remind me").click()
    await expect(button(card, "Cancel reminder")).to_be_visible()
    past_list = spaces.get_by_role("list", name="Past spaces")
    old = past_list.get_by_role("article", name="Winter riding")
    await expect(old.get_by_role("link", name="Listen to the recording")).to_have_attribute(
        "href", f"#/spaces/{past['id']}/replay"
    )
    await shoot(page, "profile")

    await live.get_by_role("button", name="Join").click()
    await expect(page.get_by_role("heading", level=1, name="Ask me about e-bikes")).to_be_visible()
    # Someone with no spaces shows no such section.
    await page.goto(f"{server.base_url}/#/u/lou")
    await expect(page.get_by_role("heading", name="Posts")).to_be_visible()
    await expect(page.get_by_role("region", name="Spaces")).to_have_count(0)
    await host.close()
