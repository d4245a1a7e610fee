"""What a space says of its audience: `tuned_in` (every account that was ever in it, once, the
host included) and `peak_listeners` (the most listeners at once), counted as people come, go,
come back and move between the stage and the audience, and kept once the space is over; its
public page says them. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.servers import ServerThread


async def share_page(server: ServerThread, sid: str) -> str:
    async with http_client(base_url=server.base_url) as anonymous:
        page = await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    return page.text


async def audience(reader: Person, sid: str) -> tuple[int, int, int]:
    """(listening now, tuned in, peak listeners)."""
    space = await reader.call("GET", f"/spaces/{sid}", 200)
    return space["listener_count"], space["tuned_in"], space["peak_listeners"]


async def test_who_tuned_in_and_the_peak_are_counted_and_kept(server: ServerThread) -> None:
    host, ada, bob, carl, dan = [
        await Person.sign_up(server.base_url, h) for h in ("host", "ada", "bob", "carl", "dan")
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Counting"}))["id"]
    assert await audience(host, sid) == (0, 1, 0)
    for person in (ada, bob):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    assert await audience(host, sid) == (2, 3, 2)

    # Coming back is not tuning in again; leaving does not lower the peak.
    await ada.call("POST", f"/spaces/{sid}/leave", 204)
    await ada.call("POST", f"/spaces/{sid}/join", 200)
    await bob.call("POST", f"/spaces/{sid}/leave", 204)
    assert await audience(host, sid) == (1, 3, 2)

    # On stage and back: a listener again, below the peak.
    await bring_on_stage(host, ada, sid)
    assert await audience(host, sid) == (0, 3, 2)
    await host.call("DELETE", f"/spaces/{sid}/speakers/ada", 204)
    assert await audience(host, sid) == (1, 3, 2)
    for person in (carl, dan):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    assert await audience(host, sid) == (3, 5, 3)
    assert "tuned in" not in await share_page(
        server, sid
    )  # live: its listeners are counted elsewhere

    await host.call("POST", f"/spaces/{sid}/end", 200)
    _, tuned_in, peak = await audience(dan, sid)
    assert (tuned_in, peak) == (5, 3)
    (listed,) = await dan.call("GET", "/spaces", 200, params={"host": "host", "state": "ended"})
    assert (listed["tuned_in"], listed["peak_listeners"]) == (5, 3)
    # The space's public page (`/s/{id}`) says so too.
    assert "5 people tuned in, at most 3 listeners at once." in await share_page(server, sid)
    for person in (host, ada, bob, carl, dan):
        await person.close()
