"""The web client's side of sessions (issue 8): its sockets never carry the token in their URL,
the own profile changes the password, signs out everywhere and deletes the account, and a page
in a space whose session ends elsewhere signs out and says why."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, join_from_home, person
from tests.support.clients import PASSWORD, Person
from tests.support.servers import ServerThread

NEW_PASSWORD = "a brand new password"


async def own_profile(page: Page, handle: str) -> None:
    await page.get_by_role("link", name=f"@{handle} (your profile)").click()
    await expect(page.get_by_role("heading", name="Password and sessions")).to_be_visible()


async def test_change_password_then_a_sign_out_elsewhere_ends_the_space_page(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    page = await person(await launch(None), server.base_url, "ada", "Ada")
    socket_urls: list[str] = []
    page.on("websocket", lambda ws: socket_urls.append(ws.url))
    other_device = await Person.sign_in(server.base_url, "ada")

    await own_profile(page, "ada")
    await page.locator("summary", has_text="Change password").click()
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password").fill(NEW_PASSWORD)
    await button(page, "Change password").click()
    await expect(page.locator("#announcements")).to_contain_text("Password changed")
    await other_device.refused("GET", "/me", 401, "invalid_token")

    host = await Person.sign_up(server.base_url, "host")
    await host.call("POST", "/spaces", 201, json={"title": "Sessions"})
    await join_from_home(page, "Sessions")
    assert socket_urls and all("token" not in url for url in socket_urls), socket_urls

    # Signed out everywhere from another device: the page in the space says so at once.
    elsewhere = await Person.sign_in(server.base_url, "ada", NEW_PASSWORD)
    await elsewhere.call("DELETE", "/sessions", 204)
    await expect(page.get_by_role("heading", name="You were signed out")).to_be_visible()
    await expect(page.locator("#main").get_by_text("Your session ended")).to_be_visible()
    for account in (other_device, host, elsewhere):
        await account.close()


async def test_sign_out_everywhere_from_the_profile(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    page = await person(await launch(None), server.base_url, "ada", "Ada")
    other_device = await Person.sign_in(server.base_url, "ada")
    await own_profile(page, "ada")
    await button(page, "Sign out everywhere").click()
    await expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    await other_device.refused("GET", "/me", 401, "invalid_token")
    await other_device.close()


async def test_deleting_the_account_from_the_profile_takes_her_out_of_the_space_too(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    page = await person(await launch(None), server.base_url, "ada", "Ada")
    host = await Person.sign_up(server.base_url, "host")
    await host.call("POST", "/spaces", 201, json={"title": "Goodbye"})
    # A second tab of hers, in the space (the same storage: the same session).
    in_space = await page.context.new_page()
    await in_space.goto(f"{server.base_url}/#/")
    await join_from_home(in_space, "Goodbye")

    await own_profile(page, "ada")
    await page.locator("summary", has_text="Delete account").click()
    form = page.locator("form", has=button(page, "Delete my account"))
    await expect(form).to_contain_text("This cannot be undone")
    await form.get_by_label("Password").fill("not my password")
    await button(page, "Delete my account").click()
    await expect(form.get_by_role("alert")).to_contain_text("The current password is not right")
    await form.get_by_label("Password").fill(PASSWORD)
    await button(page, "Delete my account").click()

    await expect(page.locator("#alerts")).to_contain_text("Your account was deleted")
    await expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    # The tab in the space is signed out at once, and told why.
    await expect(in_space.get_by_role("heading", name="You were signed out")).to_be_visible()
    await expect(in_space.locator("#main")).to_contain_text("Your account was deleted.")
    await page.goto(f"{server.base_url}/#/u/ada")
    await expect(page.get_by_role("heading", name="No such account")).to_be_visible()
    await host.close()
