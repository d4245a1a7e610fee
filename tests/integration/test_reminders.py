"""Reminders on scheduled spaces: whoever sets one sees it set (and nobody else does) on the
space and in the list, and can take it back; when the host goes live, the host's followers and
whoever still has a reminder are notified, once each, and nobody else."""

from __future__ import annotations

import httpx

from tests.support.clients import Person, http_client, token_for
from tests.support.schedule import people, schedule
from tests.support.servers import ServerThread


async def reminded(http: httpx.AsyncClient, space_id: str) -> tuple[bool, bool]:
    """Whether the space says so to this reader, in `GET /spaces/{id}` and in the list."""
    shown = await http.get(f"/spaces/{space_id}")
    assert shown.status_code == 200, shown.text
    listed = await http.get("/spaces", params={"state": shown.json()["state"]})
    assert listed.status_code == 200, listed.text
    (in_list,) = [s["reminded"] for s in listed.json() if s["id"] == space_id]
    return shown.json()["reminded"], in_list


async def test_a_reminder_is_shown_to_the_one_who_set_it_only(server: ServerThread) -> None:
    host, ada, bob = await people(server, "host", "ada", "bob")
    sid = await schedule(host, "Book club")
    other = await schedule(host, "Poetry night")

    await ada.call("POST", f"/spaces/{sid}/reminders", 204)
    # Setting it again changes nothing, and is no error.
    await ada.call("POST", f"/spaces/{sid}/reminders", 204)

    assert await reminded(ada.http, sid) == (True, True)
    assert await reminded(ada.http, other) == (False, False)
    assert await reminded(bob.http, sid) == (False, False)
    assert await reminded(host.http, sid) == (False, False)
    async with http_client(base_url=f"{server.base_url}/api/v1") as anon:
        assert await reminded(anon, sid) == (False, False)


async def test_a_reminder_is_taken_back(server: ServerThread) -> None:
    host, ada, bob = await people(server, "host", "ada", "bob")
    sid = await schedule(host, "Book club")
    for person in (ada, bob):
        await person.call("POST", f"/spaces/{sid}/reminders", 204)

    await ada.call("DELETE", f"/spaces/{sid}/reminders", 204)
    assert await reminded(ada.http, sid) == (False, False)
    assert await reminded(bob.http, sid) == (True, True)  # only Ada's went
    # Nothing left to take back: still 204, still not reminded.
    await ada.call("DELETE", f"/spaces/{sid}/reminders", 204)
    await host.call("DELETE", f"/spaces/{sid}/reminders", 204)
    assert await reminded(ada.http, sid) == (False, False)
    await ada.refused("DELETE", "/spaces/nope/reminders", 404, "space_not_found")
    # And set again, it shows again.
    await ada.call("POST", f"/spaces/{sid}/reminders", 204)
    assert await reminded(ada.http, sid) == (True, True)


async def test_a_token_sets_and_takes_back_reminders_with_the_listen_scope(
    server: ServerThread,
) -> None:
    host, ada = await people(server, "host", "ada")
    sid = await schedule(host, "Book club")
    listener = await token_for(ada, None, "spaces:read", "spaces:listen")
    reader = await token_for(ada, None, "spaces:read")

    await listener.call("POST", f"/spaces/{sid}/reminders", 204)
    assert await reminded(reader.http, sid) == (True, True)
    for method in ("POST", "DELETE"):
        await reader.refused(method, f"/spaces/{sid}/reminders", 403, "insufficient_scope")
    assert await reminded(ada.http, sid) == (True, True)
    await listener.call("DELETE", f"/spaces/{sid}/reminders", 204)
    assert await reminded(ada.http, sid) == (False, False)


async def live_notifications(person: Person) -> list[tuple[str, object]]:
    found = await person.call("GET", "/me/notifications", 200)
    return [(n["kind"], n["data"]) for n in found]


async def test_going_live_notifies_followers_and_reminded_accounts(server: ServerThread) -> None:
    host, fan, ada, quitter, stranger = await people(
        server, "host", "fan", "ada", "quitter", "stranger"
    )
    await fan.call("POST", f"/accounts/{host.handle}/follow", 204)
    sid = await schedule(host, "Book club")
    # The fan both follows and asked; the host asked too (the API lets them), and knows anyway.
    for person in (fan, ada, quitter, host):
        await person.call("POST", f"/spaces/{sid}/reminders", 204)
    await quitter.call("DELETE", f"/spaces/{sid}/reminders", 204)
    everyone = (host, fan, ada, quitter, stranger)
    assert [await live_notifications(p) for p in everyone] == [[]] * 5

    started = await host.call("POST", f"/spaces/{sid}/start", 200)
    assert started["state"] == "live"

    told = [("space_live", {"space_id": sid, "title": "Book club", "host": "host"})]
    assert await live_notifications(fan) == told  # once, not once per reason
    assert await live_notifications(ada) == told
    for person in (quitter, stranger, host):
        assert await live_notifications(person) == [], person.handle
    # Live, nobody is reminded of it any more, and no reminder can be set.
    assert await reminded(ada.http, sid) == (False, False)
    await stranger.refused("POST", f"/spaces/{sid}/reminders", 409, "space_not_scheduled")
    await host.call("POST", f"/spaces/{sid}/end", 200)
    await stranger.refused("POST", f"/spaces/{sid}/reminders", 409, "space_not_scheduled")
    await ada.call("DELETE", f"/spaces/{sid}/reminders", 204)  # moot now, and no error
    # Nobody is told twice, and the one who asked on a live space is not told at all.
    assert await live_notifications(ada) == told
    assert await live_notifications(stranger) == []


async def test_a_space_live_at_once_notifies_followers_only(server: ServerThread) -> None:
    host, fan, other = await people(server, "host", "fan", "other")
    await fan.call("POST", f"/accounts/{host.handle}/follow", 204)
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Right now"}))["id"]
    assert await live_notifications(fan) == [
        ("space_live", {"space_id": sid, "title": "Right now", "host": "host"})
    ]
    for person in (other, host):
        assert await live_notifications(person) == []
