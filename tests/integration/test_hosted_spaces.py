"""One host's spaces (`GET /spaces?host=`, what a profile lists): live, scheduled and ended,
theirs only, under the rules every listing follows (nothing moderation took down, nothing of
a suspended or deleted host); and spaces found by title or topic (`GET /spaces?q=`). On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clients import PASSWORD, Person, http_client
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread


async def listed(server: ServerThread, handle: str, state: str) -> list[str]:
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.get("/spaces", params={"host": handle, "state": state})
    assert r.status_code == 200, r.text
    return [s["title"] for s in r.json()]


async def test_a_hosts_spaces_in_each_state_and_nobody_elses(server: ServerThread) -> None:
    ada, bob = [await Person.sign_up(server.base_url, h) for h in ("ada", "bob")]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await ada.call("POST", "/spaces", 201, json={"title": "Later", "scheduled_start": later})
    past = (await ada.call("POST", "/spaces", 201, json={"title": "Earlier"}))["id"]
    await ada.call("POST", f"/spaces/{past}/end", 200)
    await ada.call("POST", "/spaces", 201, json={"title": "Now"})
    await bob.call("POST", "/spaces", 201, json={"title": "Bob's"})

    assert await listed(server, "ada", "live") == ["Now"]
    assert await listed(server, "ada", "scheduled") == ["Later"]
    assert await listed(server, "ada", "ended") == ["Earlier"]
    assert await listed(server, "bob", "live") == ["Bob's"]
    assert await listed(server, "bob", "ended") == []
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        for bad, status, code in (
            ("nobody", 404, "account_not_found"),
            ("not a handle", 404, "account_not_found"),
            ("x" * 16, 422, "invalid_request"),
        ):
            r = await anonymous.get("/spaces", params={"host": bad})
            assert (r.status_code, r.json()["code"]) == (status, code), r.text
    for person in (ada, bob):
        await person.close()


async def test_a_suspended_or_deleted_hosts_spaces_are_not_listed(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    ada, bob = [await Person.sign_up(server.base_url, h) for h in ("ada", "bob")]
    for host in (ada, bob):
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Over"}))["id"]
        await host.call("POST", f"/spaces/{sid}/end", 200)
    await suspend(mod, "ada")
    assert await listed(server, "ada", "ended") == []
    await bob.call("POST", "/accounts/me/deactivate", 204, json={"password": PASSWORD})
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.get("/spaces", params={"host": "bob", "state": "ended"})
    assert r.status_code == 404 and r.json()["code"] == "account_not_found"
    for person in (mod, ada, bob):
        await person.close()


async def test_spaces_are_found_by_title_or_topic(server: ServerThread) -> None:
    ada, bob = [await Person.sign_up(server.base_url, h) for h in ("ada", "bob")]
    await ada.call("POST", "/spaces", 201, json={"title": "Jazz at night", "topics": ["music"]})
    await bob.call("POST", "/spaces", 201, json={"title": "Rates, 100% explained"})
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await bob.call(
        "POST",
        "/spaces",
        201,
        json={"title": "Morning show", "topics": ["Music"], "scheduled_start": later},
    )

    async def found(q: str, state: str = "live") -> list[str]:
        async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
            r = await anonymous.get("/spaces", params={"q": q, "state": state})
        assert r.status_code == 200, r.text
        return sorted(s["title"] for s in r.json())

    assert await found("JAZZ") == ["Jazz at night"]
    assert await found("music") == ["Jazz at night"]  # by its topic, live only
    assert await found("MUSIC", "scheduled") == ["Morning show"]
    assert await found("%") == ["Rates, 100% explained"]  # a wildcard is plain text
    assert await found("_") == []
    assert await found("nothing like it") == []
    assert await found("jazz\x00") == []  # nothing stored can hold it: none, not a 500
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.get("/spaces", params={"q": ""})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")
    for person in (ada, bob):
        await person.close()
