"""The page footer: its API link where the instance serves the docs (`PARLEY_API_DOCS`), and no
link to a 404 where it does not."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import open_page
from tests.support.servers import ServerThread, serve, sqlite_url


async def test_the_api_link_opens_the_docs(server: ServerThread, launch: LaunchBrowser) -> None:
    page = await open_page(await launch(None), server.base_url)
    footer = page.get_by_role("contentinfo")
    await expect(footer.get_by_role("link", name="Status")).to_be_visible()
    await footer.get_by_role("link", name="API").click()
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parley")


async def test_no_api_link_where_the_docs_are_off(tmp_path: Path, launch: LaunchBrowser) -> None:
    with serve(database_url=sqlite_url(tmp_path), api_docs=False) as server:
        page = await open_page(await launch(None), server.base_url)
        footer = page.get_by_role("contentinfo")
        # Once the page has read the status (what hides the link), the footer shows the rest.
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(footer.get_by_role("link", name="API")).to_have_count(0)
        shown = "Parley · live audio rooms · Transparency · Status"
        await expect(footer).to_have_text(shown, use_inner_text=True)
