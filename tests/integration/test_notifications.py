"""Notifications and how far they are read: the same unread count on every device, a mark that
never goes back nor ahead of what exists, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from parley.core import notifications as payloads
from parley.core.accounts import AccountState
from parley.core.moderation import AppealDecision, ReportStatus, ReportTarget
from parley.core.notifications import UNREAD_COUNTED_MAX, NotificationKind
from parley.store.notifications import NotificationStore
from parley.store.tables import notifications as notification_rows
from tests.support.clients import Person, token_for
from tests.support.servers import ServerThread

AT = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)


async def unread(person: Person) -> int:
    count: int = (await person.call("GET", "/me/notifications/unread", 200))["count"]
    return count


async def go_live(host: Person, title: str) -> str:
    space_id: str = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
    await host.call("POST", f"/spaces/{space_id}/end", 200)
    return space_id


async def test_what_is_read_on_one_device_is_read_on_every_device(server: ServerThread) -> None:
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    phone = await Person.sign_in(server.base_url, "fan")
    await fan.call("POST", "/accounts/host/follow", 204)
    assert await unread(fan) == 0 and await fan.call("GET", "/me/notifications", 200) == []

    first = await go_live(host, "Morning")
    second = await go_live(host, "Evening")
    listed = await fan.call("GET", "/me/notifications", 200)
    assert [(n["data"]["space_id"], n["data"]["host"], n["unread"]) for n in listed] == [
        (second, "host", True),
        (first, "host", True),
    ]
    assert await unread(fan) == await unread(phone) == 2

    # Read up to the older one on the phone: the newer is still unread, on both.
    older_id = listed[1]["id"]
    await phone.call("POST", "/me/notifications/seen", 204, json={"up_to": older_id})
    assert await unread(fan) == await unread(phone) == 1
    assert [n["unread"] for n in await fan.call("GET", "/me/notifications", 200)] == [True, False]
    # Never back: an older mark from a slower device changes nothing.
    await fan.call("POST", "/me/notifications/seen", 204, json={"up_to": 0})
    assert await unread(phone) == 1
    # Never ahead of what exists: what comes after stays unread.
    await fan.call("POST", "/me/notifications/seen", 204, json={"up_to": 2**62})
    assert await unread(fan) == 0
    await go_live(host, "Night")
    assert await unread(phone) == 1
    assert [n["unread"] for n in await phone.call("GET", "/me/notifications", 200)] == [
        True,
        False,
        False,
    ]
    # Each account has its own: the host was told nothing and read nothing.
    assert await unread(host) == 0
    for person in (host, fan, phone):
        await person.close()


async def test_the_count_stops_at_99_and_bad_marks_are_refused(server: ServerThread) -> None:
    ada = await Person.sign_up(server.base_url, "ada")

    async def flood() -> None:
        async with server.node.db.write() as conn:
            await NotificationStore(conn).add_many(
                [ada.id] * 150,
                NotificationKind.UNSUSPENDED,
                payloads.Lifted("x"),
                datetime.now(UTC),
            )

    server.call(flood())
    assert await unread(ada) == UNREAD_COUNTED_MAX == 99
    for bad in ({}, {"up_to": -1}, {"up_to": "all"}, {"up_to": 2**63}):
        await ada.refused("POST", "/me/notifications/seen", 422, "invalid_request", json=bad)
    assert await unread(ada) == 99
    # A token reads with account:read and marks only with account:write.
    reader = await token_for(ada, None, "account:read")
    assert await unread(reader) == 99
    await reader.refused(
        "POST", "/me/notifications/seen", 403, "insufficient_scope", json={"up_to": 1}
    )
    writer = await token_for(ada, None, "account:read", "account:write")
    newest = (await writer.call("GET", "/me/notifications?limit=1", 200))[0]["id"]
    await writer.call("POST", "/me/notifications/seen", 204, json={"up_to": newest})
    assert await unread(ada) == 0
    for person in (ada, reader, writer):
        await person.close()


async def test_a_notification_this_version_cannot_read_stays_stored_and_unshown(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    """A row of a kind this version does not know, or whose data is of another shape (written by
    a newer node, or by hand), is passed over with a warning: the rest of the list still reads."""
    ada = await Person.sign_up(server.base_url, "ada")

    async def store() -> None:
        async with server.node.db.write() as conn:
            notifications = NotificationStore(conn)
            await notifications.add_many(
                [ada.id], NotificationKind.UNLIMITED, payloads.Lifted("ok"), AT
            )
            rows = [("space_tea_party", {"space_id": "s1"}), ("limited", {"rule": "spam"})]
            await conn.execute(
                insert(notification_rows),
                [{"account_id": ada.id, "kind": k, "data": d, "created_at": AT} for k, d in rows],
            )

    server.call(store())
    with caplog.at_level(logging.WARNING, logger="parley.store.notifications"):
        shown = await ada.call("GET", "/me/notifications", 200)
    assert [(n["kind"], n["data"]) for n in shown] == [("unlimited", {"reason": "ok"})]
    assert sum("cannot be read" in r.getMessage() for r in caplog.records) == 2
    assert await unread(ada) == 3  # still there, and counted
    # A typed payload of another kind is refused before it is written.
    with pytest.raises(TypeError):
        server.call(
            _add(
                server,
                ada.id,
                NotificationKind.LIMITED,
                payloads.Lifted("not what a limit carries"),
            )
        )
    await ada.close()


async def _add(
    server: ServerThread, account_id: str, kind: NotificationKind, data: payloads.Lifted
) -> None:
    async with server.node.db.write() as conn:
        await NotificationStore(conn).add_many([account_id], kind, data, AT)


EVERY_PAYLOAD: list[tuple[NotificationKind, payloads.NotificationData]] = [
    (NotificationKind.UNLIMITED, payloads.Lifted("Served", bot="jet")),
    (NotificationKind.UNSUSPENDED, payloads.StillLimited("Served", still_limited=True, until=None)),
    (NotificationKind.LIMITED, payloads.LimitSet("n1", "spam", AT)),
    (
        NotificationKind.BOT_RESTRICTED,
        payloads.BotRestricted("jet", AccountState.LIMITED, "n1", "spam", None),
    ),
    (
        NotificationKind.REPORT_RESOLVED,
        payloads.ReportResolved("r1", ReportTarget.POST, ReportStatus.DISMISSED, "spam"),
    ),
    (
        NotificationKind.APPEAL_DECIDED,
        payloads.AppealDecided("a1", AppealDecision.UPHELD, "It stands"),
    ),
    (NotificationKind.POST_REMOVED, payloads.PostRemoved("p1", "n1", "spam")),
    (NotificationKind.SPACE_REMOVED, payloads.SpaceRemoved("s2", "n1", "spam", bot="jet")),
]


async def test_the_api_describes_each_kinds_data_and_sends_what_the_store_keeps(
    server: ServerThread,
) -> None:
    ada = await Person.sign_up(server.base_url, "ada")
    space = payloads.SpaceNews(await go_live(ada, "Moved"), "Moved", "ada", scheduled_start=AT)
    every = [(NotificationKind.SPACE_RESCHEDULED, space), *EVERY_PAYLOAD]

    async def store() -> None:
        async with server.node.db.write() as conn:
            for kind, payload in every:
                await NotificationStore(conn).add_many([ada.id], kind, payload, AT)

    server.call(store())
    schemas = (await ada.http.get(f"{server.base_url}/openapi.json")).json()["components"][
        "schemas"
    ]
    described = schemas["NotificationOut"]["properties"]["data"]["anyOf"]
    names = {ref["$ref"].rsplit("/", 1)[1] for ref in described}
    assert names == {type(payload).__name__ for _, payload in every}
    sent = await ada.call("GET", "/me/notifications", 200)
    assert [n["kind"] for n in reversed(sent)] == [kind.value for kind, _ in every]
    for item, (_, payload) in zip(reversed(sent), every, strict=True):
        schema = schemas[type(payload).__name__]
        assert set(schema.get("required", [])) <= set(item["data"]) <= set(schema["properties"])
        kept = payloads.notification_data(payload)
        assert {k: _instant(v) for k, v in item["data"].items()} == {
            k: _instant(v) for k, v in kept.items()
        }
    await ada.close()


def _instant(value: object) -> object:
    """A time as the instant it names: the API writes UTC as Z, the store as +00:00."""
    if isinstance(value, str) and value.startswith("2026-"):
        return datetime.fromisoformat(value)
    return value
