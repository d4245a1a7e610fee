"""Posts pinned to a space: the host and cohosts choose them, everyone in the room sees them at
once (a `pins_changed` event, then `GET /spaces/{id}/pins`), and a link blocked since the post
was written keeps it from being pinned."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.clients import Person, http_client, make_bot, token_for, write_post
from tests.support.moderation import admin
from tests.support.servers import ServerThread, serve


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    # Every account here is new: no warning label on their links (test_links_everywhere.py).
    with serve(database_url=database_url, link_new_account_days=0) as running:
        yield running


async def test_the_host_and_cohosts_pin_posts_that_everyone_sees_at_once(
    server: ServerThread,
) -> None:
    host, co, speaker, lou = [
        await Person.sign_up(server.base_url, h) for h in ("host", "co", "speaker", "lou")
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Pinned"}))["id"]
    for person in (co, speaker, lou):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    await host.call("POST", f"/spaces/{sid}/cohosts/co", 204)
    await host.call("POST", f"/spaces/{sid}/speakers/speaker", 204)
    await speaker.call("POST", f"/spaces/{sid}/invitation/accept", 204)
    agenda = await write_post(host, "Agenda: https://example.org/agenda")
    notes = await write_post(co, "Notes as we go")
    lous = await write_post(lou, "A listener's thought")

    async with lou.events(sid) as stream:
        await stream.wait_for("snapshot")
        await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": agenda})
        changed = await stream.wait_for("pins_changed")
        assert changed["data"] == {"post_ids": [agenda], "by": host.id}
        # A cohost pins too, anyone's post; the latest comes first.
        await co.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": lous})
        await stream.wait_for("pins_changed", post_ids=[lous, agenda])
        # The stage and the audience may not.
        for person in (speaker, lou):
            await person.refused(
                "POST", f"/spaces/{sid}/pins", 403, "pin_not_allowed", json={"post_id": notes}
            )
            await person.refused("DELETE", f"/spaces/{sid}/pins/{agenda}", 403, "pin_not_allowed")

    shown = await lou.call("GET", f"/spaces/{sid}", 200)
    assert shown["pinned"] == [lous, agenda]
    pinned = await lou.call("GET", f"/spaces/{sid}/pins", 200)
    assert [(p["id"], p["author"]["handle"]) for p in pinned] == [(lous, "lou"), (agenda, "host")]
    # The agenda's link goes through the redirector, which checks it again at every click.
    (_, link) = pinned[1]["text_parts"]
    assert link["text"] == "https://example.org/agenda" and link["href"].startswith("/l/")

    # Pinning one already pinned brings it to the top; a fourth waits for an unpin.
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": agenda})
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": notes})
    assert (await lou.call("GET", f"/spaces/{sid}", 200))["pinned"] == [notes, agenda, lous]
    fourth = await write_post(host, "One too many")
    await host.refused(
        "POST", f"/spaces/{sid}/pins", 409, "too_many_pins", json={"post_id": fourth}
    )
    await co.call("DELETE", f"/spaces/{sid}/pins/{lous}", 204)
    await co.refused("DELETE", f"/spaces/{sid}/pins/{lous}", 404, "pin_not_found")
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": fourth})
    assert (await lou.call("GET", f"/spaces/{sid}", 200))["pinned"] == [fourth, notes, agenda]
    await host.refused(
        "POST", f"/spaces/{sid}/pins", 404, "post_not_found", json={"post_id": "no-such-post"}
    )

    # Whoever comes in later finds them in the snapshot.
    async with speaker.events(sid) as stream:
        snapshot = await stream.wait_for("snapshot")
        assert snapshot["data"]["pinned"] == [fourth, notes, agenda]

    # Over, the space keeps what was pinned, and nobody changes it any more.
    await host.call("POST", f"/spaces/{sid}/end", 200)
    await host.refused("DELETE", f"/spaces/{sid}/pins/{agenda}", 409, "space_over")
    assert [p["id"] for p in await lou.call("GET", f"/spaces/{sid}/pins", 200)] == [
        fourth,
        notes,
        agenda,
    ]
    for person in (host, co, speaker, lou):
        await person.close()


async def test_a_post_whose_link_was_blocked_since_it_was_written_is_not_pinned(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Links"}))["id"]
    written = await write_post(host, "Free prizes at https://prizes.example/claim")
    rule = {"rule": "scam", "reason": "Collects card numbers", "match": "host"}
    await mod.call(
        "POST",
        "/admin/link-rules",
        201,
        json={**rule, "pattern": "prizes.example", "verdict": "block"},
    )
    r = await host.http.post(f"/spaces/{sid}/pins", json={"post_id": written})
    assert r.status_code == 422 and r.json()["code"] == "link_blocked", r.text
    assert r.json()["rule"] == "scam"
    assert (await host.call("GET", f"/spaces/{sid}", 200))["pinned"] == []
    await mod.close()
    await host.close()


async def test_a_post_nobody_may_read_any_more_is_not_pinned(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    await make_bot(host, "departures")
    bot = await token_for(host, "departures", "posts:write")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Flights"}))["id"]
    landed = await write_post(bot, "N628TS landed")
    kept = await write_post(host, "Gate changes: ask at the desk")
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": landed})
    await host.call("DELETE", "/me/bots/departures", 204)
    # Pinned before, it is no longer shown; pinning it now is refused like any unknown post.
    assert await host.call("GET", f"/spaces/{sid}/pins", 200) == []
    await host.refused(
        "POST", f"/spaces/{sid}/pins", 404, "post_not_found", json={"post_id": landed}
    )
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": kept})
    assert [p["id"] for p in await host.call("GET", f"/spaces/{sid}/pins", 200)] == [kept]
    await bot.close()
    await host.close()


async def test_the_share_page_shows_the_pinned_posts_to_anyone(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open"}))["id"]
    agenda = await write_post(host, "Agenda <b>first</b>: https://example.org/agenda")
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": agenda})
    (pinned,) = await host.call("GET", f"/spaces/{sid}/pins", 200)
    href = pinned["text_parts"][1]["href"]
    async with http_client(base_url=server.base_url) as anonymous:
        html = (await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})).text
        assert '<h2 id="pinned-h">Pinned</h2>' in html
        # Escaped as everything people write, its link through the redirector, with its author.
        assert "Agenda &lt;b&gt;first&lt;/b&gt;: " in html
        assert f'<a href="{href}" rel="nofollow ugc noopener noreferrer">' in html
        assert "https://example.org/agenda</a>" in html and "@host" in html
        await host.call("DELETE", f"/spaces/{sid}/pins/{agenda}", 204)
        html = (await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})).text
        assert "Pinned" not in html and "Agenda" not in html
    await host.close()
