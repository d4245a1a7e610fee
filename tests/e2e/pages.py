"""The web client's pages as the e2e tests drive them: people signing up, signing in and joining
through the page, the parts of a space found by role and accessible name, waits on the room's
media, and the screenshots for docs/screenshots/."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Locator, Page, Route, ViewportSize, expect

from tests.e2e.browser import PROBE
from tests.support.clients import PASSWORD
from tests.support.servers import ServerThread

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
ROOM_AUDIO = "parleyRoom.audio.connection.remoteStream"


async def open_page(browser: Browser, base_url: str, path: str = "/", **options: Any) -> Page:
    """A fresh context (its own storage: its own signed-in account) on the app, with the probe;
    `options` go to the context (a phone's viewport replaces the 1280x800 one)."""
    context = await browser.new_context(**{"viewport": VIEWPORT, "base_url": base_url, **options})
    await context.add_init_script(path=PROBE)
    page = await context.new_page()
    page.on("pageerror", lambda error: print(f"[page error] {error}"))
    await page.goto(f"{base_url}/#{path}")
    return page


async def sign_up(page: Page, handle: str, name: str) -> None:
    await page.goto(f"{page.url.split('#')[0]}#/signup")
    await page.get_by_label("Handle").fill(handle)
    await page.get_by_label("Display name").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up", exact=True).click()
    await expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()


async def sign_in(page: Page, handle: str, *, suspended: bool = False) -> None:
    # Following a link to the screen already shown draws it anew (app.js), maybe after the
    # handle went into the form it replaces: CI signed in as "" twice. Only from elsewhere.
    if not page.url.endswith("#/signin"):
        await page.get_by_role("link", name="Sign in", exact=True).click()
    await page.get_by_label("Handle").fill(handle)
    await page.get_by_label("Password").fill(PASSWORD)
    await button(page, "Sign in").click()
    if not suspended:
        # Signed in once the password is checked: over 5 s on a loaded CI host once (argon2
        # and the page's first reads sharing two cores with the other workers).
        await expect(button(page, "Sign out")).to_be_visible(timeout=15_000)


async def start_space(page: Page, title: str) -> None:
    await page.get_by_role("button", name="Start a space", exact=True).click()
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_role("button", name="Start now", exact=True).click()
    await expect(stage_member(page, page_handle(page))).to_be_visible()


_handles: dict[Page, str] = {}


def page_handle(page: Page) -> str:
    return _handles[page]


async def person(browser: Browser, base_url: str, handle: str, name: str) -> Page:
    page = await open_page(browser, base_url)
    await sign_up(page, handle, name)
    _handles[page] = handle
    return page


async def join_from_home(page: Page, title: str) -> None:
    await page.get_by_role("link", name="Home", exact=True).click()
    card = page.get_by_role("article", name=title)
    await card.get_by_role("button", name="Join", exact=True).click()
    await expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    await expect(connection(page)).to_have_text("Connected")


def stage(page: Page) -> Locator:
    return page.get_by_role("list", name="stage", exact=True)


def stage_member(page: Page, handle: str) -> Locator:
    return stage(page).get_by_role("listitem").filter(has_text=f"@{handle}")


def audience_member(page: Page, handle: str) -> Locator:
    return (
        page.get_by_role("list", name="Audience")
        .get_by_role("listitem")
        .filter(has_text=f"@{handle}")
    )


def connection(page: Page) -> Locator:
    return page.locator(".conn")


def button(scope: Page | Locator, name: str) -> Locator:
    return scope.get_by_role("button", name=name, exact=True)


async def expect_reminder(scope: Locator, is_set: bool) -> None:
    """A scheduled space's card or page shows the reminder set (with a way to cancel it), or
    offers to set one."""
    set_, unset = button(scope, "Cancel reminder"), button(scope, "Remind me")
    await expect(set_ if is_set else unset).to_be_visible()
    await expect(unset if is_set else set_).to_have_count(0)
    note = expect(scope.get_by_text("Reminder set"))
    await (note.to_be_visible() if is_set else note.to_be_hidden())


async def text_lines(element: Locator) -> int:
    """How many lines the element's text is laid out on (a badge squeezed by its neighbours
    wraps inside its pill)."""
    lines: int = await element.evaluate(
        """(el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
        }"""
    )
    return lines


async def until_media(page: Page, send: bool, previous: Any = None, timeout: float = 15) -> None:
    """Until the room's media connection sends (or only receives), is connected, and (when
    `previous` names a window property holding an older connection) is a new one."""
    replaced = f"&& c !== window[{previous!r}]" if previous else ""
    await page.wait_for_function(
        f"""() => {{
            const c = window.parleyRoom && parleyRoom.audio && parleyRoom.audio.connection;
            return !!c && c.send === {str(send).lower()} && c.pc.connectionState === "connected"
              {replaced};
        }}""",
        timeout=timeout * 1000,
        polling=50,
    )


async def shoot(page: Page, name: str, full_page: bool = False) -> None:
    """A screenshot of the viewport (1280x800, or a phone's) for the README, without transient
    toasts, and with transitions at their end: a button pressed just before otherwise shows
    half-way between its two colours."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A constructed stylesheet (CSSOM): the page's CSP refuses an added <style> element.
    await page.evaluate(
        """() => {
          const sheet = new CSSStyleSheet();
          sheet.replaceSync(".toasts { display: none !important; }");
          document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        }"""
    )
    await page.screenshot(
        path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page, animations="disabled"
    )


def in_days(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0).isoformat()


async def lose_media(server: ServerThread, someone_in_the_room: Page, handle: str) -> None:
    """What the media watchdog does when a connection shows no sign of life (it is hung up;
    its owner stays while another connection of theirs is open), for the one of `handle`."""
    sid = await space_id(someone_in_the_room)
    account_id = await someone_in_the_room.evaluate(
        "(handle) => [...parleyRoom.people.values()].find((p) => p.handle === handle).account_id",
        handle,
    )

    server.call(server.node.media.hang_up_forwarded(sid, account_id))


async def space_id(page: Page) -> str:
    return str(await page.evaluate("parleyRoom.space.id"))


async def answered_late(page: Page, url: re.Pattern[str], seconds: float = 1.0) -> None:
    """The page's requests to `url` reach the server `seconds` late: room for what a person does
    while an answer is on its way."""

    async def late(route: Route) -> None:
        await asyncio.sleep(seconds)
        await route.continue_()

    await page.route(url, late)
