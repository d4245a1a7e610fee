"""Posts in the web client: written on the own profile, and deleted there, after a second
"for good?" in place; a follower's timeline no longer shows a deleted post."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, person
from tests.support.clients import Person
from tests.support.servers import ServerThread


async def test_an_author_deletes_a_post_from_the_profile(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    page = await person(await launch(None), server.base_url, "pat", "Pat")
    fan = await Person.sign_up(server.base_url, "fan")
    await fan.call("POST", "/accounts/pat/follow", 204)
    await page.get_by_role("link", name="@pat (your profile)").click()
    posts = page.get_by_role("list", name="Posts by @pat")
    for text in ("Doors open at eight", "My number is 555-0100"):
        await page.get_by_label("New post").fill(text)
        await button(page, "Post").click()
        await expect(posts).to_contain_text(text)
    assert len(await fan.call("GET", "/timeline", 200)) == 2

    regretted = posts.get_by_role("listitem").filter(has_text="555-0100")
    await regretted.get_by_role("button", name="Delete post: My number is 555-0100").click()
    await expect(regretted).to_contain_text("Delete this post for good?")
    # Kept at first: nothing happens without the second press.
    await button(regretted, "Keep").click()
    await expect(regretted.get_by_role("button", name="Delete post: My number")).to_be_focused()
    await regretted.get_by_role("button", name="Delete post: My number is 555-0100").click()
    await button(regretted, "Delete post").click()

    await expect(page.locator("#announcements")).to_contain_text("Post deleted")
    await expect(posts).not_to_contain_text("555-0100")
    await expect(posts).to_contain_text("Doors open at eight")
    assert [p["text"] for p in await fan.call("GET", "/timeline", 200)] == ["Doors open at eight"]
    # Someone else's profile offers no such control.
    await page.goto(f"{server.base_url}/#/u/fan")
    await expect(page.get_by_role("heading", name="fan")).to_be_visible()
    await expect(page.get_by_role("button", name="Delete post", exact=False)).to_have_count(0)
    await fan.close()
