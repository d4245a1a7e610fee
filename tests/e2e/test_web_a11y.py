"""The web client by keyboard alone, checked by axe-core, and its moderation screens.

Keyboard: signing in, starting a space and joining one use only Tab, typing and Enter. Every
main screen is then checked with axe-core (the npm package's axe.min.js, fetched with `npm pack`
into tests/e2e/vendor/ on first use, which git ignores): no serious or critical violation is
allowed, in the light colour scheme and, for sign-in and home, the dark one. The screenshots of
the admin console, the suspended notice and the link interstitial are taken here.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from playwright.async_api import Browser, Locator, Page, expect

from tests.e2e.a11y import AXE_VERSION, Axe, check_a11y
from tests.e2e.browser import LaunchBrowser
from tests.e2e.moderation import account_row
from tests.e2e.pages import button, open_page, shoot, sign_in, stage_member
from tests.support.clients import PASSWORD, Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread


def test_axe_core_is_at_hand(axe_source: Axe) -> None:
    assert f"axe v{AXE_VERSION}" in axe_source.source[:200]


async def tab_to(page: Page, target: Locator, limit: int = 60) -> None:
    """Presses Tab until `target` has the focus (and fails if it never gets it)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


async def sign_in_by_keyboard(page: Page, handle: str) -> None:
    await tab_to(page, page.get_by_label("Handle"))
    await page.keyboard.type(handle)
    await tab_to(page, page.get_by_label("Password"))
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(button(page, "Sign out")).to_be_visible()


async def test_main_flows_by_keyboard_and_axe(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    for handle in ("kim", "lee"):
        await (await Person.sign_up(base, handle, f"{handle.title()} Keys")).close()
    browser: Browser = await launch(None)
    kim = await open_page(browser, base, "/signin")
    lee = await open_page(browser, base, "/signup")
    await check_a11y(lee, axe_source, "sign up")
    await lee.goto(f"{base}/#/signin")
    await check_a11y(kim, axe_source, "sign in")

    # Kim signs in and starts a space, by keyboard only. The bar keeps its height as its
    # links change ("Create account" is drawn as "Start a space" is).
    signed_out = await kim.get_by_role("banner").bounding_box()
    await sign_in_by_keyboard(kim, "kim")
    signed_in = await kim.get_by_role("banner").bounding_box()
    assert signed_out and signed_in, "no banner"
    assert abs(signed_in["height"] - signed_out["height"]) < 0.5, (signed_out, signed_in)
    await tab_to(kim, button(kim, "Start a space"))
    await kim.keyboard.press("Enter")
    await expect(kim.get_by_role("heading", level=1, name="Start a space")).to_be_focused()
    await check_a11y(kim, axe_source, "start a space")
    await tab_to(kim, kim.get_by_label("Title", exact=True))
    await kim.keyboard.type("Keys only")
    await tab_to(kim, button(kim, "Start now"))
    await kim.keyboard.press("Enter")
    await expect(stage_member(kim, "kim")).to_be_visible()

    # Lee signs in, finds the space on the home page and joins it with Tab and Enter.
    await sign_in_by_keyboard(lee, "lee")
    await check_a11y(lee, axe_source, "home")
    card = lee.get_by_role("article", name="Keys only")
    await tab_to(lee, button(card, "Join"))
    await lee.keyboard.press("Enter")
    await expect(lee.get_by_role("heading", level=1, name="Keys only")).to_be_visible()
    await tab_to(lee, button(lee, "Request to speak"))
    await lee.keyboard.press("Enter")

    # Kim approves from the request queue, by keyboard.
    approve = button(kim.get_by_role("list", name="Requests"), "Approve")
    await expect(approve).to_be_visible()
    await check_a11y(kim, axe_source, "space as host")
    await tab_to(kim, approve)
    await kim.keyboard.press("Enter")
    await expect(stage_member(kim, "lee")).to_be_visible()
    await expect(button(lee, "Unmute")).to_be_visible()
    await check_a11y(lee, axe_source, "space as speaker")
    await tab_to(lee, button(lee, "Leave the stage"))
    await lee.keyboard.press("Enter")
    await expect(button(lee, "Request to speak")).to_be_visible()
    await check_a11y(lee, axe_source, "space as listener")
    await tab_to(lee, button(lee, "Leave"))
    await lee.keyboard.press("Enter")
    await expect(lee.get_by_role("heading", level=1, name="Hello, Lee Keys")).to_be_visible()
    await expect(kim.get_by_label("listeners")).to_have_text("0")

    # The dark colour scheme passes too (while the space is live, so its card shows).
    dark = await open_page(browser, base, "/signin", color_scheme="dark")
    await check_a11y(dark, axe_source, "sign in, dark")
    await sign_in_by_keyboard(dark, "lee")
    await expect(dark.get_by_role("article", name="Keys only")).to_be_visible()
    await check_a11y(dark, axe_source, "home, dark")

    await kim.get_by_role("link", name="@kim (your profile)").click()
    await expect(kim.get_by_role("heading", level=1, name="Kim Keys")).to_be_visible()
    await check_a11y(kim, axe_source, "own profile")
    await kim.goto(f"{base}/#/u/lee")
    # Drawn whole first: the screen's heading takes the focus once it is, and a Tab taken
    # before that would be undone (the profile's posts load after its buttons show).
    await expect(kim.get_by_role("heading", level=1, name="Lee Keys")).to_be_focused()
    await tab_to(kim, button(kim, "Follow"))
    await kim.keyboard.press("Enter")
    await expect(button(kim, "Following")).to_have_attribute("aria-pressed", "true")
    await expect(kim.get_by_text("1 follower", exact=True)).to_be_visible()
    await tab_to(kim, button(kim, "Block"))
    await kim.keyboard.press("Enter")
    await expect(button(kim, "Unblock")).to_be_focused()
    await check_a11y(kim, axe_source, "profile")


async def test_moderation_screens(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    moderator, second = await admin(server, "mod"), await admin(server, "vic")
    await (await Person.sign_up(base, "rita", "Rita Reporter")).close()
    host = await Person.sign_up(base, "mallory", "Mallory Mischief")
    # She hosts a space, alone: her suspension ends it.
    shouting = await host.call("POST", "/spaces", 201, json={"title": "Loud hour"})
    await host.close()
    browser = await launch(None)
    mod, rita, mallory = await asyncio.gather(
        open_page(browser, base), open_page(browser, base), open_page(browser, base)
    )

    # Rita reports Mallory from her profile.
    await sign_in(rita, "rita")
    await rita.goto(f"{base}/#/u/mallory")
    await rita.get_by_text("Report @mallory").click()
    await rita.get_by_label("Rule broken").select_option("harassment")
    await rita.get_by_label("What happened (optional)").fill("Keeps shouting over speakers")
    await button(rita, "Send report").click()
    await expect(rita.get_by_text("Report @mallory")).to_be_visible()

    # The moderator finds Mallory and suspends her, citing the rule and a reason.
    await sign_in(mod, "mod")
    await mod.get_by_role("link", name="Admin", exact=True).click()
    await expect(mod.get_by_role("heading", level=1, name="Admin console")).to_be_visible()
    row = await account_row(mod, "mallory", search="mall")
    await button(row, "Suspend").click()
    await row.get_by_label("Rule", exact=True).fill("harassment")
    await row.get_by_label("Reason").fill("Repeatedly shouting over other speakers")
    await button(row, "Confirm suspension").click()
    await expect(row.get_by_text("suspended", exact=True)).to_be_visible()
    # With no end given, it lasts until a moderator lifts it, and the row says so.
    await expect(row.get_by_text("until lifted", exact=True)).to_be_visible()
    await check_a11y(mod, axe_source, "admin: accounts")
    await mod.get_by_label("Find accounts").fill("")
    await button(mod, "Search").click()
    await expect(mod.get_by_role("row").filter(has_text="@rita")).to_be_visible()
    # Her own row offers nothing the server would refuse (cannot_limit_self, ...).
    own = mod.get_by_role("row").filter(has_text="@mod")
    await expect(own.get_by_text("Your account: another moderator acts on it")).to_be_visible()
    await expect(own.get_by_role("button")).to_have_count(0)
    await shoot(mod, "admin")

    # Her space ended with her suspension: taken down, for Rita too, who had the link.
    await rita.goto(f"{base}/#/spaces/{shouting['id']}")
    await expect(
        rita.get_by_role("heading", level=1, name="This space was removed")
    ).to_be_visible()
    await expect(rita.locator("main")).to_contain_text("ended by moderation")
    await expect(rita.locator("main")).not_to_contain_text("Loud hour")
    # Her profile says she is suspended, and shows nothing of hers while that lasts.
    await rita.goto(f"{base}/#/u/mallory")
    await expect(rita.get_by_role("heading", level=1, name="Account suspended")).to_be_visible()
    await expect(rita.locator("main")).to_contain_text("@mallory is suspended")

    for tab, expected in (
        ("Reports", "Keeps shouting over speakers"),
        ("Transcripts", "Find words"),
        ("Audit log", "Account suspended"),
        ("Feature switches", "Creating new spaces"),
        ("Link rules", "Link rules"),
    ):
        await (
            mod.get_by_role("navigation", name="Admin sections")
            .get_by_role("link", name=tab)
            .click()
        )
        await expect(mod.get_by_role("heading", level=2, name=tab)).to_be_visible()
        await expect(mod.locator("main")).to_contain_text(expected)
        await check_a11y(mod, axe_source, f"admin: {tab.lower()}")

    # The audit log says what was done in words, and filters by it.
    sections = mod.get_by_role("navigation", name="Admin sections")
    await sections.get_by_role("link", name="Audit log").click()
    actions = mod.get_by_role("table", name="Audit log entries").locator("td:nth-child(3)")
    await expect(actions.filter(has_text="Account suspended")).not_to_have_count(0)
    await shoot(mod, "admin-audit")
    await mod.get_by_label("Action").select_option(label="Suspension lifted")
    await button(mod, "Filter").click()
    await expect(mod.get_by_text("No entries.")).to_be_visible()
    await mod.get_by_label("Action").select_option(label="Account suspended")
    await button(mod, "Filter").click()
    await expect(actions.first).to_have_text("Account suspended")
    assert set(await actions.all_inner_texts()) == {"Account suspended"}
    await sections.get_by_role("link", name="Link rules").click()

    # Mallory signs in and gets her notice: what, which rule, why, and an appeal form.
    await sign_in(mallory, "mallory", suspended=True)
    await expect(mallory.get_by_role("heading", name="Your account is suspended")).to_be_visible()
    await expect(
        mallory.get_by_text("Repeatedly shouting over other speakers", exact=True)
    ).to_be_visible()
    await expect(mallory.locator("dd code")).to_have_text("harassment")
    await check_a11y(mallory, axe_source, "suspended notice")
    await shoot(mallory, "suspended-notice")
    await mallory.get_by_label("Your appeal").fill("I was reading a poem aloud, not shouting.")
    await button(mallory, "Send appeal").click()
    await expect(mallory.get_by_text("Appeal sent.")).to_be_visible()

    # The moderator reads the appeal of her own action, and what it answers; another
    # moderator decides it, and overturns it. Mallory can sign in again.
    await (
        mod.get_by_role("navigation", name="Admin sections")
        .get_by_role("link", name="Appeals")
        .click()
    )
    appeal = mod.get_by_role("list", name="Open appeals").get_by_role("listitem")
    await expect(appeal).to_contain_text("reading a poem aloud")
    await expect(appeal).to_contain_text("Account suspended under harassment by @mod")
    await expect(appeal).to_contain_text("Repeatedly shouting over other speakers")
    await expect(appeal.get_by_text("another moderator decides it")).to_be_visible()
    await expect(appeal.get_by_role("button")).to_have_count(0)
    await check_a11y(mod, axe_source, "admin: appeals")
    vic = await open_page(browser, base)
    await sign_in(vic, "vic")
    await vic.goto(f"{base}/#/admin/appeals")
    appeal = vic.get_by_role("list", name="Open appeals").get_by_role("listitem")
    await appeal.get_by_label("Decision reason").fill("Context shows a performance")
    await shoot(vic, "admin-appeals")
    await button(appeal, "Overturn").click()
    await expect(vic.get_by_text("No open appeals.")).to_be_visible()
    # The button that had the focus went with the appeal: the queue's heading has it now.
    await expect(vic.get_by_role("heading", level=2, name="Appeals")).to_be_focused()
    # The public report counts it by its outcome.
    await vic.goto(f"{base}/#/transparency")
    report = vic.get_by_role("table", name="Moderation actions per month, action and rule")
    decided = report.get_by_role("row").filter(has_text="Appeal decided: overturned")
    await expect(decided).to_contain_text("harassment")
    # Its month in words, as people say it, not the period's "2026-12".
    await expect(decided.get_by_role("cell").first).to_have_text(f"{datetime.now(UTC):%B %Y}")
    await shoot(vic, "transparency")
    await mallory.goto(f"{base}/#/signin")
    await mallory.get_by_label("Handle").fill("mallory")
    await mallory.get_by_label("Password").fill(PASSWORD)
    await button(mallory, "Sign in").click()
    await expect(
        mallory.get_by_role("heading", level=1, name="Hello, Mallory Mischief")
    ).to_be_visible()
    await moderator.close()
    await second.close()


async def test_posted_links_go_through_the_interstitial(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    moderator = await admin(server, "mod")
    await (await Person.sign_up(base, "pat", "Pat Poster")).close()
    browser = await launch(None)
    mod, pat = await asyncio.gather(open_page(browser, base), open_page(browser, base))

    # The moderator adds a warning rule from the console.
    await sign_in(mod, "mod")
    await mod.goto(f"{base}/#/admin/link-rules")
    await mod.get_by_label("Pattern").fill("sketchy.example")
    await mod.get_by_label("Verdict").select_option("warn")
    await mod.get_by_label("Rule", exact=True).fill("phishing")
    await mod.get_by_label("Reason", exact=True).fill("Look-alike sign-in pages")
    await button(mod, "Add rule").click()
    await expect(mod.get_by_role("cell", name="sketchy.example", exact=True)).to_be_visible()
    # The rule reads as the form wrote it, and a URL checked against the rules says why.
    rule_row = mod.get_by_role("row").filter(has_text="sketchy.example")
    await expect(rule_row.get_by_role("cell", name="Host and its subdomains")).to_be_visible()
    await expect(rule_row.get_by_role("cell", name="Warn (interstitial)")).to_be_visible()
    await mod.get_by_label("Check a URL").fill("https://www.SKETCHY.example/offer")
    await button(mod, "Check").click()
    await expect(mod.get_by_role("status").filter(has_text="Warned")).to_have_text(
        "Warned (interstitial) under “phishing”: Look-alike sign-in pages"
        " · https://www.sketchy.example/offer"
    )
    await check_a11y(mod, axe_source, "admin: link rules")

    # Pat posts a link to it; the post shows the link through the redirector.
    await sign_in(pat, "pat")
    await pat.get_by_role("link", name="@pat (your profile)").click()
    await pat.get_by_label("New post").fill("Great deals at https://sketchy.example/offer today")
    await button(pat, "Post").click()
    link = pat.get_by_role("link", name="https://sketchy.example/offer")
    await expect(link).to_have_attribute("data-redirector", "1")
    assert (await link.get_attribute("href") or "").startswith("/l/")
    await link.click()
    await expect(pat.get_by_role("heading", name="This link may be unsafe")).to_be_visible()
    await expect(pat.get_by_text("phishing")).to_be_visible()
    await check_a11y(pat, axe_source, "link interstitial")
    await shoot(pat, "link-interstitial")
    # In the app's colours: its accent on the way back (the page was black and grey).
    back = pat.get_by_role("link", name="Back to Parley")
    assert await back.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(75, 75, 200)"
    await back.click()
    await expect(button(pat, "Sign out")).to_be_visible()
    await moderator.close()
