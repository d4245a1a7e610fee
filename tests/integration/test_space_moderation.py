"""A moderator ends one space without touching its host's account: a live one ends at once for
everyone in it (`space_ended`, reason `moderation`, with a message), a scheduled one is called
off, and either is taken down (410 `space_removed`), its host told why and able to appeal; an
overturned appeal brings the page back, ended. Whoever hosts it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread

RULE = {"rule": "hate", "reason": "Slurs from the stage"}


async def test_a_moderator_ends_a_live_space_and_an_appeal_brings_its_page_back(
    server: ServerThread,
) -> None:
    mod, other_mod = await admin(server, "mod"), await admin(server, "mia")
    host, lou = [await Person.sign_up(server.base_url, h) for h in ("host", "lou")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Loud hour"}))["id"]
    await lou.call("POST", f"/spaces/{sid}/join", 200)
    await lou.refused("POST", f"/admin/spaces/{sid}/end", 403, "moderators_only", json=RULE)

    async with lou.events(sid) as events:
        await events.wait_for("snapshot")
        done = await mod.call("POST", f"/admin/spaces/{sid}/end", 200, json=RULE)
        ended = await events.wait_for("space_ended")
    assert ended["data"]["reason"] == "moderation"
    assert ended["data"]["message"] == "A moderator ended this space"
    assert done["space_id"] == sid and done["notice"]["action"] == "end_space"
    await lou.refused("GET", f"/spaces/{sid}", 410, "space_removed")
    await mod.refused("POST", f"/admin/spaces/{sid}/end", 409, "space_over", json=RULE)
    # The host keeps their account, and is told.
    await host.call("POST", "/posts", 201, json={"text": "Still here"})
    (notice,) = await host.call("GET", "/me/notices", 200)
    assert notice["text"].startswith("Your space (“Loud hour”) was ended by a moderator")
    (told,) = [n for n in await host.call("GET", "/me/notifications", 200)]
    assert (told["kind"], told["data"]) == (
        "space_removed",
        {"space_id": sid, "notice_id": notice["id"], "rule": "hate"},
    )

    appeal = await host.call(
        "POST", "/appeals", 201, json={"notice_id": notice["id"], "text": "A quote, in a debate"}
    )
    decision = {"decision": "overturned", "reason": "Quoted to refute it"}
    await other_mod.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
    shown = await lou.call("GET", f"/spaces/{sid}", 200)
    assert (shown["state"], shown["title"]) == ("ended", "Loud hour")
    audited = await mod.call("GET", f"/admin/audit?target_id={sid}", 200)
    assert [e["action"] for e in audited] == ["restore_space", "end_space"]
    for person in (mod, other_mod, host, lou):
        await person.close()


async def test_a_moderator_calls_off_a_scheduled_space(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {"title": "Tomorrow's rally", "scheduled_start": start}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await fan.call("POST", f"/spaces/{sid}/reminders", 204)
    await mod.call("POST", f"/admin/spaces/{sid}/end", 200, json=RULE)
    await fan.refused("GET", f"/spaces/{sid}", 410, "space_removed")
    await host.refused("POST", f"/spaces/{sid}/start", 409, "space_not_scheduled")
    # Whoever set a reminder hears it is off, without the title moderation took down.
    (cancelled,) = await fan.call("GET", "/me/notifications", 200)
    assert cancelled["kind"] == "space_cancelled" and cancelled["data"]["withheld"] is True
    await mod.refused("POST", "/admin/spaces/nope/end", 404, "space_not_found", json=RULE)
    for person in (mod, host, fan):
        await person.close()
