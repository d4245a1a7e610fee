"""A host's profile lists their spaces: live now (Join), coming up (a reminder), past (the
recording, when there is one); and people and spaces are found from the home page's search.
The screenshot is docs/screenshots/profile.png."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, person, shoot
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


async def test_people_and_spaces_are_found_from_home(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    host = await Person.sign_up(server.base_url, "mara", "Mara Quinn")
    page = await person(await launch(None), server.base_url, "lou", "Lou")
    # Signed up, Lou is home (following the Home link again would draw it anew under the typing).
    await expect(page.get_by_role("heading", level=1, name="Hello, Lou")).to_be_visible()
    search = page.get_by_role("search")
    await search.get_by_label("Search people and spaces").fill("QUINN")
    found = page.get_by_role("list", name="People found")
    await expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 person found")
    await found.get_by_role("link", name="Mara Quinn @mara").click()
    await expect(page.get_by_role("heading", level=1, name="Mara Quinn")).to_be_visible()
    await button(page, "Follow").click()
    await expect(button(page, "Following")).to_be_visible()
    assert (await host.call("GET", "/accounts/mara", 200))["followers"] == 1
    await host.call(
        "POST", "/spaces", 201, json={"title": "Ask me about e-bikes", "topics": ["cycling"]}
    )
    await page.get_by_role("link", name="Home", exact=True).click()
    await expect(page.get_by_role("heading", level=1, name="Hello, Lou")).to_be_visible()
    box = page.get_by_role("search").get_by_label("Search people and spaces")
    await box.fill("CYCLING")  # a topic
    spaces = page.get_by_role("list", name="Spaces found")
    await expect(spaces.get_by_role("article", name="Ask me about e-bikes")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="found")).to_have_text("1 space found")
    await box.fill("nobody here")
    await expect(page.get_by_text("Nothing found for “nobody here”.")).to_be_visible()
    await host.close()
