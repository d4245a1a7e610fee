"""The web client on a phone, in real Chromium with a phone's viewport, touch and mobile flags.

What someone holding a phone would notice: no screen scrolls sideways at 320 px (WCAG 1.4.10,
Reflow); the header is one row, its menu opens, closes on Escape and on navigation, and signs
out; a live space's control bar is one row, wholly on screen, and hides nothing when the page is
scrolled to its end; and axe-core finds nothing at phone size, its target-size rule (WCAG 2.2,
2.5.8: targets at least 24x24 CSS px) included. The screens: sign-in, home, profiles,
notifications, a live space as host and as listener, its replay, and the admin console. Leaves
docs/screenshots/phone-home.png and phone-space.png.
"""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Browser, Locator, Page, ViewportSize, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.a11y import Axe, check_a11y
from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, connection, open_page, shoot, stage_member, text_lines
from tests.support.clients import PASSWORD, Person, write_post
from tests.support.moderation import admin
from tests.support.recordings import complete
from tests.support.servers import ServerThread

PHONE: ViewportSize = {"width": 360, "height": 740}
NARROWEST = 320  # the width WCAG's Reflow criterion asks a page to fit without scrolling sideways
# One row of the header: its tallest control (a 40 px target) and the bar's padding, 57 px; the
# two rows it took before, 110 and more. The control bar is the same: one row of 40 px buttons.
ONE_ROW_PX = 64
# WCAG 2.0/2.1 A and AA, and 2.2 AA for target size (axe leaves that rule off unless asked).
PHONE_AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


async def on_phone(browser: Browser, base_url: str, path: str = "/") -> Page:
    return await open_page(browser, base_url, path, viewport=PHONE, is_mobile=True, has_touch=True)


async def check_screen(page: Page, axe: Axe, screen: str) -> None:
    """axe at phone size, then the page at 320 px wide: nothing may stick out sideways."""
    await check_a11y(page, axe, f"{screen}, phone", tags=PHONE_AXE_TAGS)
    await page.set_viewport_size({"width": NARROWEST, "height": PHONE["height"]})
    try:
        # Laid out again at the new width before it is measured. Against 320, not innerWidth: a
        # mobile viewport widens to content that sticks out (zooming the page out to fit it).
        await page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROWEST, f"{screen} scrolls sideways at 320 px: {width} px wide"
    finally:
        await page.set_viewport_size(PHONE)


async def expect_one_row_header(page: Page) -> None:
    header = await page.get_by_role("banner").bounding_box()
    assert header is not None and header["height"] < ONE_ROW_PX, f"the header: {header}"


def menu_button(page: Page) -> Locator:
    return page.get_by_role("banner").get_by_role("button", name="Menu", exact=True)


async def choose_from_menu(page: Page, item: str) -> None:
    """Opens the header's menu and taps its `item` link or button. The header is drawn anew
    on every route and session change, closed: a menu opened just before such a redraw (a
    fresh page settling) is opened again and the item tapped again, as a person would. The
    tap is part of each try: the redraw came once between the item showing and its tap, which
    then waited out its 30 s for an item no longer shown."""
    wanted = page.locator("#nav-menu").get_by_text(item, exact=True)
    for _ in range(3):
        if await menu_button(page).get_attribute("aria-expanded") != "true":
            await menu_button(page).click()
        try:
            await wanted.click(timeout=3000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the menu did not stay open to tap {item}")


async def signed_in(page: Page, person: Person, *, moderator: bool = False) -> None:
    """The session the sign-in form would have kept, without going through it."""
    session = {"token": person.token, "account": person.account, "admin": moderator}
    await page.evaluate("(s) => localStorage.setItem('parley.session', s)", json.dumps(session))


async def sign_in_on_phone(page: Page, handle: str) -> None:
    await page.get_by_label("Handle").fill(handle)
    await page.get_by_label("Password").fill(PASSWORD)
    await button(page, "Sign in").click()
    await expect(page.get_by_role("heading", level=1, name="Hello, Lee Listener")).to_be_visible()


async def expect_one_row_bar(page: Page) -> None:
    """Every control shown in the bar is on one row and wholly inside the viewport (measured at
    once: the bar is redrawn as the room's state changes)."""
    await expect(connection(page)).to_have_text("Connected")
    bar: dict[str, Any] = await page.evaluate(
        """() => {
          const bar = document.querySelector(".controls");
          const shown = [...bar.querySelectorAll("button")].filter((b) => b.checkVisibility());
          const boxes = shown.map((b) => b.getBoundingClientRect().toJSON());
          const names = shown.map((b) => b.textContent);
          return { height: bar.getBoundingClientRect().height, boxes, names };
        }"""
    )
    boxes = bar["boxes"]
    assert boxes, "no controls shown"
    middles = {round(b["y"] + b["height"] / 2) for b in boxes}
    assert max(middles) - min(middles) <= 2, f"the controls are not on one row: {bar}"
    for b in boxes:
        assert b["left"] >= 0 and b["right"] <= PHONE["width"], f"cut off sideways: {bar}"
        assert b["top"] >= 0 and b["bottom"] <= PHONE["height"], f"off screen: {bar}"
    assert bar["height"] < ONE_ROW_PX, bar


async def expect_nothing_under_the_bar(page: Page) -> None:
    """Scrolled to the end, the page's last content ends above the fixed bar."""
    ends: dict[str, Any] = await page.evaluate(
        """() => {
          window.scrollTo(0, document.documentElement.scrollHeight);
          const bar = document.querySelector(".controls").getBoundingClientRect();
          const last = document.querySelector(".foot").getBoundingClientRect();
          const panels = [...document.querySelectorAll(".room .panel")];
          return {
            bar: bar.top,
            footer: last.bottom,
            panels: Math.max(...panels.map((p) => p.getBoundingClientRect().bottom)),
          };
        }"""
    )
    assert ends["panels"] <= ends["bar"] and ends["footer"] <= ends["bar"] + 1, ends


async def test_a_phone_user_signs_in_listens_and_signs_out(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    hana = await Person.sign_up(base, "hana", "Hana Host")
    lee = await Person.sign_up(base, "lee", "Lee Listener")
    await write_post(hana, "Coffee at nine, phones welcome: https://example.com/a/long/path/here")
    await lee.call("POST", "/accounts/hana/follow", 204)
    browser = await launch(None)

    # Signed out: home and the sign-in form.
    page = await on_phone(browser, base, "/signin")
    await expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    await expect_one_row_header(page)
    await check_screen(page, axe_source, "sign in")

    # Hana's space goes live (Lee follows her: his bell counts it) and she is in it, on a phone.
    space = await hana.call(
        "POST", "/spaces", 201, json={"title": "Coffee on the go", "recording": True}
    )
    host = await on_phone(browser, base, "/signin")
    await signed_in(host, hana)
    await host.goto(f"{base}/#/spaces/{space['id']}")
    await expect(stage_member(host, "hana")).to_be_visible()

    await sign_in_on_phone(page, "lee")
    await expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    await expect_one_row_header(page)
    await expect(page.get_by_role("article", name="Coffee on the go")).to_be_visible()
    await check_screen(page, axe_source, "home")

    # The menu: closed, opened, closed by Escape with the focus back on its button.
    menu = menu_button(page)
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(button(page, "Sign out")).to_be_hidden()
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await expect(button(page, "Sign out")).to_be_visible()
    await check_a11y(page, axe_source, "menu open, phone", tags=PHONE_AXE_TAGS)
    await shoot(page, "phone-home")
    await page.keyboard.press("Escape")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    await expect(menu).to_be_focused()
    await expect(button(page, "Sign out")).to_be_hidden()

    # From the menu to his profile: the menu closes as the screen changes.
    await menu.click()
    await page.get_by_role("link", name="@lee (your profile)").click()
    await expect(page.get_by_role("heading", level=1, name="Lee Listener")).to_be_visible()
    await expect(menu_button(page)).to_have_attribute("aria-expanded", "false")
    await check_screen(page, axe_source, "own profile")
    await page.goto(f"{base}/#/u/hana")
    await expect(page.get_by_text("Coffee at nine")).to_be_visible()
    await check_screen(page, axe_source, "profile")

    await page.get_by_role("link", name="Notifications, 1 unread").click()
    await expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    await check_screen(page, axe_source, "notifications")

    # The space, as its host and as a listener: one row of controls, nothing hidden under them.
    await check_screen(host, axe_source, "space as host")
    await expect_one_row_bar(host)
    await expect_nothing_under_the_bar(host)
    # Record and End space wait in the tray, where a stray tap does not end the space; the tray
    # stays open, and the focus on the button, as Record turns into Stop recording and back.
    await button(host, "More").click()
    await expect(button(host, "End space")).to_be_in_viewport()
    await button(host, "Stop recording").click()
    await expect(button(host, "Record")).to_be_focused()
    await button(host, "Record").click()
    await expect(button(host, "Stop recording")).to_be_focused()
    await host.keyboard.press("Escape")
    await expect(button(host, "End space")).to_be_hidden()
    await expect(button(host, "More")).to_be_focused()
    await page.goto(f"{base}/#/spaces/{space['id']}")
    await button(page, "Join").click()
    await expect(button(page, "Request to speak")).to_be_visible()
    await expect_one_row_bar(page)
    await expect_nothing_under_the_bar(page)
    await check_screen(page, axe_source, "space as listener")
    # The share link is one thing to tap, not a word at the end of one line and one below it.
    assert await text_lines(page.get_by_role("link", name="Share link")) == 1
    # Data saver's hint goes under it, as a line of its own rather than one starting with the
    # dot that joins it to the label on a wide screen.
    saver = page.locator(".data-saver")
    shown = await saver.locator(".hint").inner_text()
    assert shown == "while listening: a few seconds behind, much less data"
    label, hint = [await saver.locator(s).bounding_box() for s in ("label", ".hint")]
    assert label is not None and hint is not None and hint["y"] >= label["y"] + label["height"] - 1
    # Reactions open above the bar and stay open for another, and through a redraw of the bar
    # (Lee's hand raised from elsewhere turns Request to speak into Cancel request).
    await button(page, "React").click()
    await expect(button(page, "React 👏")).to_be_visible()
    await lee.call("POST", f"/spaces/{space['id']}/hand", 204)
    await expect(button(page, "Cancel request")).to_be_visible()
    await expect(button(page, "React")).to_be_focused()
    await button(page, "React 👏").click()
    await button(page, "React 🔥").click()
    await check_a11y(page, axe_source, "reactions open, phone", tags=PHONE_AXE_TAGS)
    await page.evaluate("window.scrollTo(0, 0)")
    await shoot(page, "phone-space")
    await page.keyboard.press("Escape")
    await expect(button(page, "React 👏")).to_be_hidden()
    await expect(button(page, "React")).to_be_focused()

    # Hana ends it; its replay fits a phone too.
    await hana.call("POST", f"/spaces/{space['id']}/end", 200)
    await complete(hana.http, space["id"], timeout=30)
    await page.goto(f"{base}/#/spaces/{space['id']}/replay")
    await expect(page.get_by_role("heading", level=1, name="Coffee on the go")).to_be_visible()
    await check_screen(page, axe_source, "replay")

    # Signing out from the menu.
    await choose_from_menu(page, "Sign out")
    await expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
    await expect(menu_button(page)).to_have_count(0)

    # A moderator's menu has the admin console, which fits a phone too.
    mod = await admin(server, "mod")
    console = await on_phone(browser, base, "/signin")
    await signed_in(console, mod, moderator=True)
    await console.goto(f"{base}/#/")
    await expect(console.get_by_role("heading", level=1, name="Hello, mod")).to_be_visible()
    await choose_from_menu(console, "Admin")
    await expect(console.get_by_role("heading", level=1, name="Admin console")).to_be_visible()
    await expect(console.get_by_role("row").filter(has_text="@lee")).to_be_visible()
    await check_screen(console, axe_source, "admin: accounts")
    for person in (hana, lee, mod):
        await person.close()


async def test_the_pages_a_link_opens_fit_a_phone_with_room_around_them(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    """A share link and the redirector's pages are opened on phones more than anywhere: their
    card stays inside the screen with a margin, as a card does in the app (it touched both
    edges)."""
    hana = await Person.sign_up(server.base_url, "hana", "Hana Host")
    sid = (await hana.call("POST", "/spaces", 201, json={"title": "On the go"}))["id"]
    browser = await launch(None)
    page = await on_phone(browser, server.base_url)
    for path in (f"/s/{sid}", "/l/no-such-link"):
        await page.goto(f"{server.base_url}{path}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        card = await page.locator("main").bounding_box()
        assert card is not None, path
        assert card["x"] >= 8 and card["x"] + card["width"] <= PHONE["width"] - 8, (path, card)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    await hana.close()
