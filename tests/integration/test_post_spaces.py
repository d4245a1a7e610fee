"""A post shares a space: readers get the space with it, as `GET /spaces/{id}` shows it now (live,
then ended), wherever posts are read (timeline, profile, pins); a space that may no longer be
shown (taken down by moderation, its host suspended) leaves the posts that shared it without it,
and cannot be shared again; a held post keeps its space until it is published. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.places import POLICY, place
from tests.support.servers import ServerThread, serve, sweeps, wait_until


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, link_new_account_days=0) as running:
        yield running


async def share(person: Person, text: str, space_id: str, **extra: object) -> dict[str, Any]:
    body = {"text": text, "space_id": space_id, **extra}
    made: dict[str, Any] = await person.call("POST", "/posts", 201, json=body)
    return made


def cards(posts: list[dict[str, Any]]) -> dict[str, Any]:
    """Each post's text, with the title and state of the space it shows (None: none)."""
    return {p["text"]: p["space"] and (p["space"]["title"], p["space"]["state"]) for p in posts}


async def test_a_post_shows_the_space_it_shares_as_it_is_now(server: ServerThread) -> None:
    ada, fan = [await Person.sign_up(server.base_url, h) for h in ("ada", "fan")]
    await fan.call("POST", "/accounts/ada/follow", 204)
    sid = (await ada.call("POST", "/spaces", 201, json={"title": "Tea at five"}))["id"]
    made = await share(ada, "Come and listen", sid)
    assert made["space"]["id"] == sid and made["space"]["state"] == "live"
    assert made["space"]["host"]["handle"] == "ada"
    plain = await ada.call("POST", "/posts", 201, json={"text": "No space here"})
    assert plain["space"] is None

    expected = {"No space here": None, "Come and listen": ("Tea at five", "live")}
    assert cards(await fan.call("GET", "/timeline", 200)) == expected
    assert cards(await fan.call("GET", "/accounts/ada/posts", 200)) == expected
    await ada.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": made["id"]})
    assert cards(await fan.call("GET", f"/spaces/{sid}/pins", 200)) == {
        "Come and listen": ("Tea at five", "live")
    }

    # The card follows the space: ended now.
    await ada.call("POST", f"/spaces/{sid}/end", 200)
    assert cards(await fan.call("GET", "/timeline", 200))["Come and listen"] == (
        "Tea at five",
        "ended",
    )
    for person in (ada, fan):
        await person.close()


async def test_only_a_space_that_may_be_shown_is_shared_and_nothing_is_written_otherwise(
    server: ServerThread,
) -> None:
    ada = await Person.sign_up(server.base_url, "ada")
    soon = (server.node.clock.now() + timedelta(days=1)).isoformat()
    later = await ada.call("POST", "/spaces", 201, json={"title": "Later", "scheduled_start": soon})
    await ada.call("POST", f"/spaces/{later['id']}/end", 200)  # cancelled
    for space_id, status, code in (
        ("no-such-space", 404, "space_not_found"),
        (later["id"], 409, "space_cancelled"),
    ):
        body = {"text": "Listen", "space_id": space_id}
        await ada.refused("POST", "/posts", status, code, json=body)
    await ada.refused("POST", "/posts", 422, "invalid_request", json={"text": "x", "space_id": 7})
    assert await ada.call("GET", "/accounts/ada/posts", 200) == []
    await ada.close()


async def test_a_space_taken_down_leaves_the_posts_that_shared_it(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
    live = (await ben.call("POST", "/spaces", 201, json={"title": "Ben live"}))["id"]
    await share(ada, "Ben is on", live)
    await share(ada, "Ben was on", (await share(ben, "Mine", live))["space"]["id"])
    assert cards(await ada.call("GET", "/accounts/ada/posts", 200)) == {
        "Ben is on": ("Ben live", "live"),
        "Ben was on": ("Ben live", "live"),
    }

    # Suspending its host ends the live space by moderation: the posts stay, without it.
    await suspend(mod, "ben")
    assert cards(await ada.call("GET", "/accounts/ada/posts", 200)) == {
        "Ben is on": None,
        "Ben was on": None,
    }
    await ada.refused(
        "POST", "/posts", 410, "space_removed", json={"text": "Again", "space_id": live}
    )
    for person in (mod, ada, ben):
        await person.close()


async def test_a_held_post_keeps_its_space_until_it_is_published(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    author = await Person.sign_up(server.base_url, "tracker")
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    sid = (await author.call("POST", "/spaces", 201, json={"title": "Landing, live"}))["id"]
    seen = server.node.clock.now() - timedelta(hours=1)
    body = {"text": "Landed", "place": place(seen), "when_too_recent": "hold", "space_id": sid}
    held = await author.call("POST", "/posts", 202, json=body)
    assert held["space_id"] == sid
    assert [h["space_id"] for h in await author.call("GET", "/me/held-posts", 200)] == [sid]

    server.node.clock.advance(timedelta(days=1))
    await sweeps(server)
    posts = await wait_until(lambda: _published(author), timeout=5.0)
    assert cards(posts) == {"Landed": ("Landing, live", "live")}
    for person in (mod, author):
        await person.close()


async def _published(person: Person) -> list[dict[str, Any]] | None:
    posts: list[dict[str, Any]] = await person.call("GET", f"/accounts/{person.handle}/posts", 200)
    return posts or None
