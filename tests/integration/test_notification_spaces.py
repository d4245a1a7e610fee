"""A notification of a space (it went live, moved, was called off) tells of the space as it may
be shown now, not as it was written: its title as it is now, and, once moderation took the
space down or its host is suspended, neither title nor host (`withheld`): the notification
stays, and so does its unread mark. A cancelled space comes back with a lifted suspension; a
space ended by moderation does not. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.schedule import people, schedule
from tests.support.servers import ServerThread

WITHHELD = {"title": None, "host": None, "withheld": True}


async def inbox(person: Person) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await person.call("GET", "/me/notifications", 200)
    return found


def about(notifications: list[dict[str, Any]]) -> dict[str, tuple[object, object]]:
    """Each kind's (title, host), for an inbox with one of each."""
    return {n["kind"]: (n["data"]["title"], n["data"]["host"]) for n in notifications}


async def test_notifications_follow_what_may_be_shown_of_their_space(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    host, fan = await people(server, "host", "fan")
    await fan.call("POST", "/accounts/host/follow", 204)
    club = await schedule(host, "Book club")
    await fan.call("POST", f"/spaces/{club}/reminders", 204)
    live = (await host.call("POST", "/spaces", 201, json={"title": "Morning show"}))["id"]
    await host.call("PATCH", f"/spaces/{club}", 200, json={"title": "Book club: chapter 3"})
    assert about(await inbox(fan)) == {"space_live": ("Morning show", "host")}

    # Written with the old title, read with the new one.
    await host.call("PATCH", f"/spaces/{live}", 200, json={"title": "Morning show, with Ada"})
    assert about(await inbox(fan)) == {"space_live": ("Morning show, with Ada", "host")}

    # The suspension ends the live space by moderation and calls the scheduled one off: the fan
    # is told of that too, and no notification says any more what either space was.
    await suspend(mod, "host")
    told = await inbox(fan)
    assert [n["kind"] for n in told] == ["space_cancelled", "space_live"]
    assert [n["data"] for n in told] == [
        {"space_id": club, **WITHHELD},
        {"space_id": live, **WITHHELD},
    ]
    assert "Morning" not in json.dumps(told) and "Book club" not in json.dumps(told)
    assert all(n["unread"] for n in told)
    assert (await fan.call("GET", "/me/notifications/unread", 200))["count"] == 2

    # Lifted: the called-off space may be shown again, the one moderation ended may not.
    await mod.call("POST", "/admin/accounts/host/unsuspend", 200, json={"reason": "Appeal upheld"})
    told = await inbox(fan)
    assert told[0]["data"] == {"space_id": club, "title": "Book club: chapter 3", "host": "host"}
    assert told[1]["data"] == {"space_id": live, **WITHHELD}
    for person in (mod, host, fan):
        await person.close()


async def test_other_notifications_are_read_as_written(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    (ada,) = await people(server, "ada")
    await suspend(mod, "ada")
    await mod.call("POST", "/admin/accounts/ada/unsuspend", 200, json={"reason": "A mistake"})
    ada = await Person.sign_in(server.base_url, "ada")
    (lifted,) = await inbox(ada)
    assert lifted["kind"] == "unsuspended"
    assert lifted["data"]["reason"] == "A mistake" and "withheld" not in lifted["data"]
    for person in (mod, ada):
        await person.close()
