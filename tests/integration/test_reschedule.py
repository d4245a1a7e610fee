"""A host moves a scheduled space to another time, or calls it off: the space says the new time,
reminders stay set, and whoever set one is told (`space_rescheduled` with the new time,
`space_cancelled`), once, and nobody else: not a follower without a reminder, not the host. A
time in the past or too far ahead, someone else than the host, or a space already live, is
refused and changes nothing. One its host never starts is called off by the sweep, and they and
the host are told. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clients import Person, told
from tests.support.schedule import people, schedule
from tests.support.servers import ServerThread, sweeps, wait_until


def in_days(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


async def test_moving_a_scheduled_space_tells_those_reminded_of_it(server: ServerThread) -> None:
    host, ada, bob, carl = await people(server, "host", "ada", "bob", "carl")
    sid = await schedule(host, "Book club")
    for person in (ada, bob, host):
        await person.call("POST", f"/spaces/{sid}/reminders", 204)
    await carl.call("POST", "/accounts/host/follow", 204)

    later = in_days(3)
    moved = await host.call(
        "PATCH", f"/spaces/{sid}", 200, json={"scheduled_start": later.isoformat()}
    )
    assert datetime.fromisoformat(moved["scheduled_start"]) == later
    assert moved["title"] == "Book club"  # what was not given stays
    for person in (ada, bob):
        (said,) = await told(person, "space_rescheduled")
        # The instant, however the offset is written (the API writes UTC as Z).
        when = datetime.fromisoformat(said.pop("scheduled_start"))
        assert when == later
        assert said == {"space_id": sid, "title": "Book club", "host": "host"}
        shown = await person.call("GET", f"/spaces/{sid}", 200)
        assert shown["reminded"] is True  # still set, for the new time
    for person in (carl, host):
        assert await told(person, "space_rescheduled") == []

    # The same time again moves nothing, and tells nobody again.
    await host.call("PATCH", f"/spaces/{sid}", 200, json={"scheduled_start": later.isoformat()})
    assert len(await told(ada, "space_rescheduled")) == 1
    for person in (host, ada, bob, carl):
        await person.close()


async def test_a_bad_move_is_refused_and_changes_nothing(server: ServerThread) -> None:
    host, ada = await people(server, "host", "ada")
    sid = await schedule(host, "Book club")
    await ada.call("POST", f"/spaces/{sid}/reminders", 204)
    before = (await host.call("GET", f"/spaces/{sid}", 200))["scheduled_start"]
    for when, status, code in (
        (in_days(-1), 422, "invalid_schedule"),
        (in_days(31), 422, "invalid_schedule"),
    ):
        body = {"scheduled_start": when.isoformat()}
        await host.refused("PATCH", f"/spaces/{sid}", status, code, json=body)
    body = {"scheduled_start": in_days(3).isoformat()}
    await ada.refused("PATCH", f"/spaces/{sid}", 403, "edit_not_allowed", json=body)
    assert (await host.call("GET", f"/spaces/{sid}", 200))["scheduled_start"] == before

    # Live: too late to move it (its title may still change).
    await host.call("POST", f"/spaces/{sid}/start", 200)
    await host.refused("PATCH", f"/spaces/{sid}", 409, "space_not_scheduled", json=body)
    assert await told(ada, "space_rescheduled") == []
    for person in (host, ada):
        await person.close()


async def test_calling_a_scheduled_space_off_tells_those_reminded_of_it(
    server: ServerThread,
) -> None:
    host, ada, carl = await people(server, "host", "ada", "carl")
    sid = await schedule(host, "Poetry night")
    await ada.call("POST", f"/spaces/{sid}/reminders", 204)
    await carl.call("POST", "/accounts/host/follow", 204)
    cancelled = await host.call("POST", f"/spaces/{sid}/end", 200)
    assert cancelled["state"] == "cancelled"
    assert await told(ada, "space_cancelled") == [
        {"space_id": sid, "title": "Poetry night", "host": "host"}
    ]
    for person in (carl, host):
        assert await told(person, "space_cancelled") == []
    for person in (host, ada, carl):
        await person.close()


async def test_a_scheduled_space_its_host_never_starts_is_called_off_after_its_window(
    server: ServerThread,
) -> None:
    """12 hours after its time (PARLEY_SCHEDULE_LAPSE_HOURS), so upcoming lists hold only what
    may still happen; a host running late may go live until then, and a moved space counts
    from its new time. Those with a reminder, and this once the host, are told why."""
    host, ada = await people(server, "host", "ada")
    forgotten = await schedule(host, "Book club")
    late = await schedule(host, "Poetry night")
    moved = await schedule(host, "Chess hour")
    await ada.call("POST", f"/spaces/{forgotten}/reminders", 204)
    body = {"scheduled_start": in_days(3).isoformat()}
    await host.call("PATCH", f"/spaces/{moved}", 200, json=body)

    server.node.clock.advance(timedelta(days=2, hours=11))  # 11 hours late: still on
    await sweeps(server)
    assert await states(host, forgotten, late, moved) == ["scheduled", "scheduled", "scheduled"]
    await host.call("POST", f"/spaces/{late}/start", 200)

    server.node.clock.advance(timedelta(hours=1, minutes=1))
    await wait_until(lambda: _is(host, forgotten, "cancelled"))
    await sweeps(server)
    assert await states(host, forgotten, late, moved) == ["cancelled", "live", "scheduled"]
    upcoming = await ada.call("GET", "/spaces?state=scheduled", 200)
    assert [s["id"] for s in upcoming] == [moved]
    lapsed = {"space_id": forgotten, "title": "Book club", "host": "host", "reason": "not_started"}
    for person in (ada, host):
        assert await told(person, "space_cancelled") == [lapsed]
    for person in (host, ada):
        await person.close()


async def states(person: Person, *space_ids: str) -> list[str]:
    return [(await person.call("GET", f"/spaces/{s}", 200))["state"] for s in space_ids]


async def _is(person: Person, space_id: str, state: str) -> bool:
    return await states(person, space_id) == [state]
