"""Finding 8.7: a suspension `until` far in the future gave a 500 (the offset pushed it past
the last instant UTC can hold, and the store overflowed). Every instant a user gives is
checked in core: far or unrepresentable dates are a clean 422, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread

ABSURD = [
    "9999-12-31T23:59:59-14:00",  # past UTC's last instant once converted
    "9999-12-31T23:59:59+00:00",
    "2999-01-01T00:00:00-12:00",
    "0001-01-01T00:00:00+14:00",  # before UTC's first instant once converted
]
UNREPRESENTABLE = [ABSURD[0], ABSURD[-1]]


@pytest.mark.parametrize("until", ABSURD)
async def test_absurd_suspension_ends_are_refused_cleanly(server: ServerThread, until: str) -> None:
    mod = await admin(server, "mod")
    target = await Person.sign_up(server.base_url, "target")
    await mod.refused(
        "POST",
        "/admin/accounts/target/suspend",
        422,
        "invalid_until",
        json={"rule": "spam", "reason": "Probe", "until": until},
    )
    # Nothing was done: the account still works and the audit log is empty.
    assert (await target.call("GET", "/me", 200))["handle"] == "target"
    assert await mod.call("GET", "/admin/audit", 200) == []
    for person in (mod, target):
        await person.close()


async def test_a_suspension_of_years_still_works(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    await Person.sign_up(server.base_url, "target")
    done = await mod.call(
        "POST",
        "/admin/accounts/target/suspend",
        200,
        json={"rule": "spam", "reason": "Repeated spam", "until": "2030-01-01T00:00:00+14:00"},
    )
    ends = datetime.fromisoformat(done["notice"]["until"])
    assert ends == datetime(2029, 12, 31, 10, tzinfo=UTC)
    await mod.close()


async def test_absurd_schedules_and_cursors_are_refused_cleanly(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    for when in ABSURD:
        await host.refused(
            "POST",
            "/spaces",
            422,
            "invalid_schedule",
            json={"title": "Later", "scheduled_start": when},
        )
    for when in UNREPRESENTABLE:
        await host.refused("GET", "/timeline", 422, "invalid_before", params={"before": when})
    await host.close()
