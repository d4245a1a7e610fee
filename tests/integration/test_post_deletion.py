"""An author deletes a post: nobody is shown it again, wherever it was (timelines, the profile,
a space's pins and its share page), only its author can, and a pinned slot it held is given
back; a report about it still stands. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.clients import Person, http_client, make_bot, token_for, write_post
from tests.support.moderation import admin
from tests.support.servers import ServerThread, serve


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, link_new_account_days=0) as running:
        yield running


def texts(posts: list[dict[str, str]]) -> list[str]:
    return [p["text"] for p in posts]


async def test_a_deleted_post_is_shown_nowhere_and_only_its_author_deletes_it(
    server: ServerThread,
) -> None:
    ada, fan = [await Person.sign_up(server.base_url, h) for h in ("ada", "fan")]
    await fan.call("POST", "/accounts/ada/follow", 204)
    oops = await write_post(ada, "My phone number is 555-0100")
    kept = await write_post(ada, "Live at eight")
    sid = (await ada.call("POST", "/spaces", 201, json={"title": "Eight"}))["id"]
    await ada.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": oops})
    assert texts(await fan.call("GET", "/timeline", 200))[-1] == "My phone number is 555-0100"

    # Not hers to delete, and nothing changes.
    await fan.refused("DELETE", f"/posts/{oops}", 404, "post_not_found")
    await fan.refused("DELETE", "/posts/no-such-post", 404, "post_not_found")
    assert len(await fan.call("GET", "/timeline", 200)) == 2

    await ada.call("DELETE", f"/posts/{oops}", 204)
    await ada.refused("DELETE", f"/posts/{oops}", 404, "post_not_found")
    for reader in (ada, fan):
        assert texts(await reader.call("GET", "/timeline", 200)) == ["Live at eight"]
        assert texts(await reader.call("GET", "/accounts/ada/posts", 200)) == ["Live at eight"]
        assert await reader.call("GET", f"/spaces/{sid}/pins", 200) == []
    async with http_client(base_url=server.base_url) as anonymous:
        page = (await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})).text
    assert "555-0100" not in page
    # Nobody can pin it again; her other post pins as before.
    await ada.refused("POST", f"/spaces/{sid}/pins", 404, "post_not_found", json={"post_id": oops})
    await ada.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": kept})
    assert texts(await fan.call("GET", f"/spaces/{sid}/pins", 200)) == ["Live at eight"]
    for person in (ada, fan):
        await person.close()


async def test_a_deleted_pin_leaves_the_pins_at_once_and_gives_its_slot_back(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "host")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Agenda"}))["id"]
    first, second, third, fourth = [await write_post(host, f"Item {n}") for n in range(1, 5)]
    for pinned in (first, second, third):
        await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": pinned})
    await host.refused(
        "POST", f"/spaces/{sid}/pins", 409, "too_many_pins", json={"post_id": fourth}
    )
    async with host.events(sid) as room:
        await room.wait_for("snapshot")
        await host.call("DELETE", f"/posts/{second}", 204)
        # Out of the pins at once, and the room told: no screen keeps showing it.
        changed = await room.wait_for("pins_changed")
        assert changed["data"] == {"post_ids": [third, first], "by": host.id}
    assert (await host.call("GET", f"/spaces/{sid}", 200))["pinned"] == [third, first]
    await host.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": fourth})
    shown = await host.call("GET", f"/spaces/{sid}/pins", 200)
    assert texts(shown) == ["Item 4", "Item 3", "Item 1"]
    assert (await host.call("GET", f"/spaces/{sid}", 200))["pinned"] == [fourth, third, first]
    await host.close()


async def test_tokens_delete_their_accounts_posts_and_reports_still_stand(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner, reporter = [await Person.sign_up(server.base_url, h) for h in ("owner", "reporter")]
    await make_bot(owner, "bot")
    writer = await token_for(owner, "bot", "posts:write")
    reader = await token_for(owner, "bot", "posts:read")
    spam = await write_post(writer, "Buy now")
    report = {"target_type": "post", "target_id": spam, "rule": "spam", "comment": "Ad"}
    await reporter.call("POST", "/reports", 201, json=report)
    await reader.refused("DELETE", f"/posts/{spam}", 403, "insufficient_scope")
    # The owner is not the bot: each account deletes its own posts.
    await owner.refused("DELETE", f"/posts/{spam}", 404, "post_not_found")
    await writer.call("DELETE", f"/posts/{spam}", 204)
    assert await reporter.call("GET", "/accounts/bot/posts", 200) == []
    queued = await mod.call("GET", "/admin/reports", 200)
    assert [(r["target_type"], r["target_id"]) for r in queued] == [("post", spam)]
    for person in (mod, owner, reporter, writer, reader):
        await person.close()
