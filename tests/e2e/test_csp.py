"""The Content-Security-Policy in real Chromium: the web client runs whole under it (sign-up, a live
space with its event WebSocket and WebRTC media), and so do /docs and the redirector's pages,
without one violation reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import ConsoleMessage, Page, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import button, connection, open_page, sign_up, stage, until_media
from tests.support.servers import ServerThread, wait_until

# Recorded from the first moment of every document, before any of the page's own scripts run.
WATCH = """
window.parleyCsp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.parleyCsp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Violations:
    """What Chromium says it blocked, from the pages' events and from its console."""

    def __init__(self) -> None:
        self.console: list[str] = []

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                self.console.append(text)

        page.on("console", on_console)

    async def of(self, page: Page) -> list[str]:
        events: list[str] = await page.evaluate("window.parleyCsp || []")
        return events + self.console


async def test_the_web_client_runs_under_its_policy_without_violations(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    browser = await launch(tones[440])
    violations = Violations()
    page = await open_page(browser, server.base_url)
    await page.context.add_init_script(script=WATCH)
    violations.watch(page)
    await page.reload()
    policy = (await page.request.get(f"{server.base_url}/")).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy

    await sign_up(page, "ada", "Ada")
    await button(page, "Start a space").click()
    await page.get_by_label("Title", exact=True).fill("Under the policy")
    await button(page, "Start now").click()
    await expect(stage(page).get_by_role("listitem").filter(has_text="@ada")).to_be_visible()
    await expect(connection(page)).to_have_text("Connected")  # the event WebSocket
    await until_media(page, send=True)  # WebRTC to the server, the mic sending
    seen: list[str] = await violations.of(page)
    assert not seen, seen

    # More screens: avatars set their colours through the CSSOM, which the policy allows (style
    # attributes it does not); the profile and transparency pages had style attributes once.
    await page.goto(f"{server.base_url}/#/transparency")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await page.goto(f"{server.base_url}/#/u/ada")
    await expect(page.locator("#profile-name")).to_be_visible()
    seen = await violations.of(page)
    assert not seen, seen


async def test_docs_and_link_pages_run_under_their_policies(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    browser = await launch(None)
    violations = Violations()
    page = await open_page(browser, server.base_url)
    await page.context.add_init_script(script=WATCH)
    violations.watch(page)

    # Every request answered, the tab's icon too (Chromium asked for /favicon.ico, a 404, of
    # pages that named no icon).
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    loaded: list[str] = []
    page.on("requestfinished", lambda r: loaded.append(r.url))

    await page.goto(f"{server.base_url}/docs")
    # Swagger UI, from Parley's own files, rendered the schema (its operations are listed).
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parley")
    await expect(page.locator(".opblock").first).to_be_visible()
    seen: list[str] = await violations.of(page)
    assert not seen, seen
    await wait_until(lambda: f"{server.base_url}/icon.svg" in loaded)
    assert not failed, failed

    await page.goto(f"{server.base_url}/l/no-such-link")
    await expect(page.get_by_role("heading", name="No such link")).to_be_visible()
    # The stylesheet applied: the page is laid out by /css/page.css, not the browser's defaults.
    main: Any = await page.locator("main").evaluate("m => getComputedStyle(m).maxWidth")
    assert main != "none", main
    seen = await violations.of(page)
    assert not seen, seen
    assert failed == [f"404 {server.base_url}/l/no-such-link"], failed
