"""Issue 13, part 4: places in posts and the location policy, over real HTTP on SQLite and
PostgreSQL. A place newer than the policy allows is refused with the rule and the earliest time
it may be published; moving the node's clock past that time lets the same place through. The
policy binds moderators as it binds everyone; every change is audited and shown on /status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from parley.store.tables import posts
from tests.support.clients import Person, http_client
from tests.support.moderation import admin
from tests.support.places import DAY, POLICY, place
from tests.support.servers import ServerThread, sweeps, wait_until


async def post(person: Person, where: dict[str, object], **extra: object) -> httpx.Response:
    body = {"text": "Landed at KAUS", "place": where, **extra}
    return await person.http.post("/posts", json=body)


async def public_status(server: ServerThread) -> dict[str, Any]:
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        policy: dict[str, Any] = (await http.get("/status")).json()["location_policy"]
        return policy


async def test_a_place_too_recent_is_refused_until_the_clock_passes_the_delay(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    bot = await Person.sign_up(server.base_url, "tracker")
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    seen = server.node.clock.now() - timedelta(hours=1)

    refused = await post(bot, place(seen))
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "location_too_recent"
    assert problem["rule"] == "aircraft-positions"
    assert datetime.fromisoformat(problem["publish_after"]) == seen + timedelta(seconds=DAY)
    assert await bot.call("GET", "/accounts/tracker/posts", 200) == []

    server.node.clock.advance(timedelta(hours=22, minutes=59))
    assert (await post(bot, place(seen))).status_code == 422
    server.node.clock.advance(timedelta(minutes=2))
    accepted = await post(bot, place(seen))
    assert accepted.status_code == 201, accepted.text
    shown = (await bot.call("GET", "/accounts/tracker/posts", 200))[0]["place"]
    assert shown["label"] == "N628TS"
    assert (shown["latitude"], shown["longitude"]) == (30.1945, -97.6699)
    assert datetime.fromisoformat(shown["observed_at"]) == seen
    for person in (mod, bot):
        await person.close()


async def test_no_delay_accepts_at_once_and_posts_without_a_place_are_untouched(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    author = await Person.sign_up(server.base_url, "author")
    now = server.node.clock.now()
    assert (await post(author, place(now))).status_code == 201  # never set: no delay
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    assert (await post(author, place(now))).status_code == 422
    await author.call("POST", "/posts", 201, json={"text": "No place, no policy"})
    await mod.call("PUT", "/admin/policies/location", 200, json={"delay_seconds": 0})
    assert (await post(author, place(now))).status_code == 201
    for person in (mod, author):
        await person.close()


async def test_moderators_are_bound_like_everyone(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    refused = await post(mod, place(server.node.clock.now()))
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "location_too_recent"
    await mod.close()


async def test_a_held_post_is_published_when_the_policy_allows_and_not_before(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    author = await Person.sign_up(server.base_url, "tracker")
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    seen = server.node.clock.now() - timedelta(hours=1)
    due = seen + timedelta(seconds=DAY)

    held = await post(author, place(seen), when_too_recent="hold")
    assert held.status_code == 202, held.text
    body = held.json()
    assert datetime.fromisoformat(body["publish_at"]) == due
    assert body["rule"] == "aircraft-positions" and body["place"]["label"] == "N628TS"
    cancelled = await post(author, place(seen, label="N1"), when_too_recent="hold")
    assert cancelled.status_code == 202
    listed = await author.call("GET", "/me/held-posts", 200)
    assert {h["id"] for h in listed} == {body["id"], cancelled.json()["id"]}
    await author.call("DELETE", f"/me/held-posts/{cancelled.json()['id']}", 204)
    await author.refused(
        "DELETE", f"/me/held-posts/{cancelled.json()['id']}", 404, "held_post_not_found"
    )
    await mod.refused("DELETE", f"/me/held-posts/{body['id']}", 404, "held_post_not_found")
    # A place old enough goes out at once, even when the author would accept a hold.
    old = await post(author, place(seen - timedelta(days=2)), when_too_recent="hold")
    assert old.status_code == 201, old.text

    server.node.clock.advance(timedelta(hours=22, minutes=59))
    await sweeps(server)
    published = await author.call("GET", "/accounts/tracker/posts", 200)
    assert [p["id"] for p in published] == [old.json()["id"]]

    server.node.clock.advance(timedelta(minutes=2))
    posts = await wait_until(lambda: _posts_if_more(author, "tracker", 2), timeout=5.0)
    newest = posts[0]
    assert newest["id"] == body["id"] and newest["place"]["label"] == "N628TS"
    assert datetime.fromisoformat(newest["created_at"]) >= due
    assert await author.call("GET", "/me/held-posts", 200) == []
    await sweeps(server)  # published once, whatever the sweeps after
    assert len(await author.call("GET", "/accounts/tracker/posts", 200)) == 2
    for person in (mod, author):
        await person.close()


async def test_a_held_post_waits_longer_for_a_stricter_policy_and_for_a_suspension(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    author = await Person.sign_up(server.base_url, "tracker")
    await mod.call("PUT", "/admin/policies/location", 200, json={**POLICY, "delay_seconds": 3600})
    seen = server.node.clock.now()
    held = (await post(author, place(seen), when_too_recent="hold")).json()
    assert datetime.fromisoformat(held["publish_at"]) == seen + timedelta(hours=1)
    await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)

    server.node.clock.advance(timedelta(hours=2))
    await sweeps(server)
    (still,) = await author.call("GET", "/me/held-posts", 200)
    assert datetime.fromisoformat(still["publish_at"]) == seen + timedelta(seconds=DAY)
    await mod.call(
        "POST",
        "/admin/accounts/tracker/suspend",
        200,
        json={"rule": "spam", "reason": "Flooding"},
    )
    server.node.clock.advance(timedelta(days=1))
    await sweeps(server)
    # Nobody may read a suspended account's posts: the database says it was not published.
    assert server.call(_published(server, author.id)) == 0
    await mod.call("POST", "/admin/accounts/tracker/unsuspend", 200, json={"reason": "Mistake"})
    await wait_until(lambda: _posts_if_more(mod, "tracker", 1))
    await mod.close()


async def _published(server: ServerThread, author_id: str) -> int:
    async with server.node.db.read() as conn:
        query = select(func.count()).select_from(posts).where(posts.c.author_id == author_id)
        return int((await conn.execute(query)).scalar_one())


async def _posts_if_more(reader: Person, handle: str, at_least: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await reader.call("GET", f"/accounts/{handle}/posts", 200)
    return found if len(found) >= at_least else []


async def test_changes_are_audited_and_public_on_status(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    someone = await Person.sign_up(server.base_url, "someone")
    assert (await public_status(server))["delay_seconds"] == 0

    await someone.refused("PUT", "/admin/policies/location", 403, "moderators_only", json=POLICY)
    await someone.refused("GET", "/admin/policies/location", 403, "moderators_only")
    set_ = await mod.call("PUT", "/admin/policies/location", 200, json=POLICY)
    assert await mod.call("GET", "/admin/policies/location", 200) == set_
    status = await public_status(server)
    assert {k: status[k] for k in POLICY} == POLICY
    assert status["updated_at"] is not None

    await mod.call("PUT", "/admin/policies/location", 200, json={**POLICY, "delay_seconds": 3600})
    entries = await mod.call("GET", "/admin/audit?target_type=policy", 200)
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("location_policy", "location"),
        ("location_policy", "location"),
    ]
    assert entries[0]["before"]["delay_seconds"] == DAY
    assert entries[0]["after"]["delay_seconds"] == 3600
    assert entries[1]["before"] is None
    assert (await public_status(server))["delay_seconds"] == 3600
    # Counted in the public transparency report like every audited action.
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        report = (await http.get("/transparency")).json()["actions"]
    month = server.node.clock.now().strftime("%Y-%m")
    counted = {"period": month, "action": "location_policy", "rule": POLICY["rule"], "count": 2}
    assert counted | {"outcome": None} in report, report
    for person in (mod, someone):
        await person.close()


async def test_bad_places_and_policies_are_refused(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    now = server.node.clock.now()
    for bad in [
        place(now, latitude=90.5),
        place(now, latitude=-91),
        place(now, longitude=180.01),
        place(now, longitude=-181),
        place(now + timedelta(hours=1)),
        place(now, label=""),
        place(now, label="x" * 101),
        place(now, label="N628\u202eTS"),
        {**place(now), "observed_at": "2026-01-01T00:00:00"},  # no time zone
    ]:
        r = await post(mod, bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] == "invalid_place", (bad, r.text)
    malformed: list[dict[str, object]] = [{**place(now), "latitude": "north"}, {"latitude": 1}]
    for bad_body in malformed:
        assert (await post(mod, bad_body)).status_code == 422
    assert (await post(mod, place(now + timedelta(seconds=30)))).status_code == 201  # clock skew

    for bad_policy, code in [
        ({**POLICY, "delay_seconds": -1}, "invalid_request"),
        ({**POLICY, "delay_seconds": 400 * DAY}, "invalid_delay"),
        ({**POLICY, "rule": "Not A Rule"}, "invalid_rule"),
        ({**POLICY, "reason": ""}, "invalid_reason"),
    ]:
        await mod.refused("PUT", "/admin/policies/location", 422, code, json=bad_policy)
    await mod.close()
