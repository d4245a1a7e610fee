"""Bots in the web client (issue 13): on her own profile a person creates a bot and a token for
it (the secret shown once), sees it listed with its last use and revokes it; the bot's posts,
profile and presence in a space carry the Automated label naming her, and a post's place reads
as text. The admin console sets the location policy, which the public status page shows. The
screenshot of the bot management is docs/screenshots/bots.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.moderation import account_row, follow_notification_to_notices
from tests.e2e.pages import audience_member, button, open_page, person, shoot, sign_in
from tests.support.clients import PASSWORD, Person, http_client
from tests.support.moderation import admin
from tests.support.servers import ServerThread


def label_of(owner: str) -> re.Pattern[str]:
    return re.compile(rf"Automated · run by @{owner}")


async def test_a_person_makes_a_bot_and_a_token_and_the_bot_is_labelled_everywhere(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    browser = await launch(None)
    page = await person(browser, base, "jack", "Jack")
    await page.get_by_role("link", name=re.compile("@jack")).click()
    bots = page.get_by_role("region", name="Bots and API tokens")
    await bots.get_by_text("Create a bot").click()
    await bots.get_by_label("Bot handle").fill("jetwatch")
    await bots.get_by_label("Bot display name").fill("Jet watch")
    await bots.get_by_role("button", name="Create bot").click()
    bot_item = bots.get_by_role("list", name="Your bots").get_by_role("listitem")
    await expect(bot_item).to_contain_text("@jetwatch")
    await expect(bot_item).to_contain_text(label_of("jack"))

    await bots.get_by_text("Create a token").click()
    await bots.get_by_label("Token name").fill("flight tracker")
    await expect(bots.get_by_label("Acts as")).to_have_value("jetwatch")
    await bots.get_by_label(re.compile("posts:read")).check()
    await bots.get_by_label(re.compile("spaces:listen")).check()
    await bots.get_by_role("button", name="Create token").click()
    secret = bots.locator(".token-secret .secret")
    await expect(secret).to_have_text(re.compile(r"^pt_"))
    token = await secret.inner_text()
    token_item = bots.get_by_role("list", name="Your API tokens").get_by_role("listitem")
    await expect(token_item).to_contain_text("flight tracker for @jetwatch")
    await expect(token_item).to_contain_text("posts:read, posts:write, spaces:listen")
    await expect(token_item).to_contain_text("last used")
    await bots.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + scrollY - 70)")
    await shoot(page, "bots")

    # The bot posts with a place and joins Jack's space, through the token.
    bot = Person(base, "jetwatch", token, {"id": "", "handle": "jetwatch"})
    seen = datetime(2026, 11, 27, 17, 42, tzinfo=UTC).isoformat()
    place = {"latitude": 30.1755, "longitude": -97.67, "observed_at": seen, "label": "N628TS"}
    text = "N628TS landed at Austin-Bergstrom (KAUS) at 17:42 UTC, flight time 1 h 12 min"
    await bot.call("POST", "/posts", 201, json={"text": text, "place": place})
    await page.goto(f"{base}/#/u/jetwatch")
    header = page.get_by_role("heading", level=1, name="Jet watch")
    await expect(header).to_be_visible()
    await expect(page.locator(".profile-head")).to_contain_text(label_of("jack"))
    posted = page.get_by_role("list", name="Posts by @jetwatch").get_by_role("article")
    await expect(posted).to_contain_text(label_of("jack"))
    where = "N628TS at 30.1755° N, 97.6700° W, seen 2026-11-27 17:42 UTC"
    await expect(posted).to_contain_text(where)

    jack = await Person.sign_in(base, "jack", PASSWORD)
    sid = (await jack.call("POST", "/spaces", 201, json={"title": "Arrivals"}))["id"]
    await page.goto(f"{base}/#/spaces/{sid}")
    await bot.call("POST", f"/spaces/{sid}/join", 200)
    await expect(audience_member(page, "jetwatch")).to_contain_text(label_of("jack"))

    # Revoked from the profile: refused at once.
    await page.goto(f"{base}/#/u/jack")
    bots = page.get_by_role("region", name="Bots and API tokens")
    await bots.get_by_role("button", name="Revoke token flight tracker").click()
    await expect(bots.get_by_role("list", name="Your API tokens")).to_contain_text("No tokens.")
    await bot.refused("GET", "/spaces", 401, "invalid_token")
    for client in (bot, jack):
        await client.close()


async def test_the_admin_sets_the_location_policy_and_the_status_page_shows_it(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    await admin(server, "mod")
    browser = await launch(None)
    page = await open_page(browser, server.base_url, "/signin")
    await page.get_by_label("Handle").fill("mod")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    # Signed in first: the app goes home once the sign-in answers, which would otherwise
    # overtake the visit to the admin page (CI once showed home instead).
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await page.goto(f"{server.base_url}/#/admin/location-policy")
    await expect(page.get_by_role("heading", name="Location policy")).to_be_visible()
    await page.get_by_label("Delay (hours)").fill("24")
    await page.get_by_label("Rule").fill("aircraft-positions")
    await page.get_by_label(re.compile("Reason")).fill(
        "A live position of an aircraft is one of the people in it"
    )
    await page.get_by_role("button", name="Save policy").click()
    said = (
        "Places in posts may be published 1 day after they were observed (rule aircraft-positions)"
    )
    await expect(page.locator(".policy-text")).to_contain_text(said)

    await page.get_by_role("link", name="Status").click()
    await expect(page.get_by_role("heading", level=1, name="Status")).to_be_visible()
    await expect(page.get_by_role("region", name="Location policy")).to_contain_text(said)
    # The tests' server makes no live captions, and says so beside the switches.
    features = page.get_by_role("region", name="Features")
    await expect(features).to_contain_text("Spaces — on")
    await expect(features).to_contain_text("Live captions — off on this instance")
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        status = (await http.get("/status")).json()["location_policy"]
    assert status["delay_seconds"] == 86400


async def test_an_owner_reads_and_appeals_their_bots_notice(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """A bot cannot appeal (no password; no token may): its owner is told, reads its notice on
    their own Notices screen, naming the bot, and appeals there."""
    mod = await admin(server, "mod")
    ada = await Person.sign_up(server.base_url, "ada", "Ada")
    await ada.call("POST", "/me/bots", 201, json={"handle": "ada_bot", "display_name": "Weather"})
    body = {"rule": "spam", "reason": "Links in every reply"}
    await mod.call("POST", "/admin/accounts/ada_bot/suspend", 200, json=body)
    browser = await launch(None)
    # Home, not /signin: sign_in follows the header's link, and on /signin that link draws the
    # form anew, maybe after the handle went into the old one (CI once signed in as "").
    page = await open_page(browser, server.base_url, "/")
    await sign_in(page, "ada")
    await follow_notification_to_notices(
        page, "Unread: A moderator suspended your bot @ada_bot under spam."
    )
    notice = page.get_by_role("article", name="Your bot @ada_bot: account suspended")
    await expect(notice.get_by_text("Links in every reply", exact=True)).to_be_visible()
    await notice.get_by_label("Your appeal").fill("It quotes the forecast, one link a day.")
    await button(notice, "Send appeal").click()
    await expect(notice.get_by_text("Appeal sent.")).to_be_focused()
    (appeal,) = await mod.call("GET", "/admin/appeals", 200)
    assert (appeal["handle"], appeal["text"]) == (
        "ada_bot",
        "It quotes the forecast, one link a day.",
    )
    # The moderator finding the bot sees whom it answers to.
    console = await open_page(browser, server.base_url, "/signin")
    await sign_in(console, "mod")
    await console.get_by_role("link", name="Admin", exact=True).click()
    row = await account_row(console, "ada_bot")
    await expect(row).to_contain_text("Automated · run by @ada")
    await console.get_by_role("link", name="Appeals", exact=True).click()
    card = console.get_by_role("list", name="Open appeals").get_by_role("listitem")
    await expect(card).to_contain_text("@ada_bot Automated · run by @ada")
    for client in (mod, ada):
        await client.close()
