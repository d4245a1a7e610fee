"""A signed-out visitor's profile page: links come from the server, through the redirector, and
a rule added later refuses them at click time (issue 8, finding 5)."""

from __future__ import annotations

import re

from playwright.async_api import Request, expect

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import open_page
from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread


async def test_a_signed_out_visitor_gets_redirector_links_on_a_profile(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    mod = await admin(server, "mod")
    pat = await Person.sign_up(base, "pat", "Pat Poster")
    await pat.call(
        "PATCH",
        "/accounts/me",
        200,
        json={"bio": "Shop at later.example.com/shop or ftp://later.example.com/files"},
    )
    await pat.call(
        "POST",
        "/posts",
        201,
        json={"text": "Read //later.example.com/x and https://later.example.com/post"},
    )

    browser = await launch(None)
    visitor = await open_page(browser, base, "/u/pat")
    asked: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            asked.append(request.url)

    visitor.on("request", record)
    bio_link = visitor.get_by_role("link", name="later.example.com/shop", exact=True)
    post_link = visitor.get_by_role("link", name="https://later.example.com/post", exact=True)
    for link in (bio_link, post_link):
        await expect(link).to_have_attribute("href", re.compile(r"^/l/[0-9a-f]+$"))
    # Other schemes and scheme-relative URLs are text, never links.
    await expect(visitor.get_by_text("ftp://later.example.com/files", exact=False)).to_be_visible()
    assert await visitor.get_by_role("link", name="ftp://later.example.com/files").count() == 0
    assert await visitor.get_by_role("link", name="//later.example.com/x").count() == 0
    assert asked == []  # the visitor's client asked nothing to make its links

    await mod.call(
        "POST",
        "/admin/link-rules",
        201,
        json={
            "match": "host",
            "pattern": "later.example.com",
            "verdict": "block",
            "rule": "malware",
            "reason": "Serves malware",
        },
    )
    await bio_link.click()
    await expect(visitor.get_by_role("heading", name="This link is blocked")).to_be_visible()
    for person in (mod, pat):
        await person.close()
