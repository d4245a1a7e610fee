"""A scheduled space's public page (`/s/{id}`) says when it starts in words anyone can read,
wherever they are, with the instant itself for software in a `<time>` element."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clients import Person, http_client
from tests.support.servers import ServerThread


async def test_a_scheduled_spaces_page_says_when_it_starts(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    # Given with an offset: the page says the same instant in UTC.
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=19, minute=30, second=0)
    start = start.replace(microsecond=0)
    given = start.astimezone().isoformat()
    body = {"title": "Soon", "scheduled_start": given}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    async with http_client(base_url=server.base_url) as anonymous:
        page = await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    words = f"{start.day} {start:%B %Y}, 19:30 UTC"
    instant = start.isoformat().replace("+00:00", "Z")
    assert f'Starts <time datetime="{instant}">{words}</time>.' in page.text
    # Parley's icon in the stranger's tab, as in the app's.
    assert '<link rel="icon" href="/icon.svg" type="image/svg+xml">' in page.text
    await host.close()
