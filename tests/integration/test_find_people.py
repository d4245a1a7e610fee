"""Finding people to follow (`GET /accounts?q=`): by part of a handle or a display name, any
case, handles starting with it first; wildcards are plain text; suspended and deleted accounts
are not found. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.clients import PASSWORD, Person, http_client, make_bot
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread


async def find(server: ServerThread, q: str) -> list[str]:
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.get("/accounts", params={"q": q})
    assert r.status_code == 200, r.text
    return [a["handle"] for a in r.json()]


async def test_people_are_found_by_handle_or_name(server: ServerThread) -> None:
    people = [
        await Person.sign_up(server.base_url, handle, name)
        for handle, name in (
            ("zed_ada", "Zed"),
            ("ada", "Ada Lovelace"),
            ("bob", "Bob, Adams fan"),
            ("Adam", "Adam"),
            ("carol", "Carol 100%"),
        )
    ]
    # Handles starting with it first (in order), then any holding it, in handle or name.
    assert await find(server, "ADA") == ["ada", "Adam", "bob", "zed_ada"]
    assert await find(server, "lovelace") == ["ada"]
    # Wildcards are what they say.
    assert await find(server, "%") == ["carol"]
    assert await find(server, "_") == ["zed_ada"]
    assert await find(server, "nobody") == []
    assert await find(server, "ada\x00") == []  # nothing stored can hold it: none, not a 500
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        bad_queries: list[dict[str, str | int]] = [
            {},
            {"q": ""},
            {"q": "x" * 51},
            {"q": "ada", "limit": 0},
        ]
        for bad in bad_queries:
            r = await anonymous.get("/accounts", params=bad)
            assert (r.status_code, r.json()["code"]) == (422, "invalid_request"), r.text
    for person in people:
        await person.close()


async def test_bots_carry_their_label_and_the_withdrawn_are_not_found(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner, gone, banned = [
        await Person.sign_up(server.base_url, h) for h in ("radio", "radio_gone", "radio_bad")
    ]
    await make_bot(owner, "radiobot")
    await suspend(mod, "radio_bad")
    await gone.call("POST", "/accounts/me/deactivate", 204, json={"password": PASSWORD})
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        found = (await anonymous.get("/accounts", params={"q": "radio"})).json()
    assert [(a["handle"], a["automated"]) for a in found] == [
        ("radio", None),
        ("radiobot", {"owner": {"id": owner.id, "handle": "radio"}}),
    ]
    for person in (mod, owner, gone, banned):
        await person.close()
