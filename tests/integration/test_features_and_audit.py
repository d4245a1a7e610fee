"""Feature switches with a live space, the public status page, and an audit log that cannot be
changed, not even by SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from parley.store.tables import audit_log
from tests.support.clients import Person, http_client, make_bot
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve, sqlite_url


async def status(server: ServerThread) -> dict[str, dict[str, object]]:
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        features: dict[str, dict[str, object]] = (await http.get("/status")).json()["features"]
        return features


async def test_spaces_off_ends_live_spaces_gracefully_and_on_restores_service(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    fan = await Person.sign_up(server.base_url, "fan")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Before"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    assert (await status(server))["spaces"]["enabled"] is True

    message = "Spaces are down for maintenance until 18:00 UTC"
    async with fan.events(sid) as stream:
        await stream.wait_for("snapshot")
        switched = await mod.call(
            "PUT", "/admin/features/spaces", 200, json={"enabled": False, "message": message}
        )
        assert switched["spaces_ended"] == 1
        ended = await stream.wait_for("space_ended")
        assert ended["data"] == {**ended["data"], "reason": "feature_disabled", "message": message}
        assert await stream.wait_closed() == 4002
    assert (await status(server))["spaces"] == {
        **(await status(server))["spaces"],
        "enabled": False,
        "message": message,
    }
    for who, method, path, body in [
        (host, "POST", "/spaces", {"title": "Sneaky"}),
        (fan, "POST", f"/spaces/{sid}/join", None),
    ]:
        r = await who.http.request(method, path, json=body)
        assert r.status_code == 503, r.text
        problem = r.json()
        assert (problem["code"], problem["title"], problem["feature"]) == (
            "feature_disabled", message, "spaces",
        )  # fmt: skip

    await mod.call("PUT", "/admin/features/spaces", 200, json={"enabled": True})
    again = await host.call("POST", "/spaces", 201, json={"title": "After"})
    await fan.call("POST", f"/spaces/{again['id']}/join", 200)
    actions = [e["action"] for e in await mod.call("GET", "/admin/audit?target_type=feature", 200)]
    assert actions == ["feature_on", "feature_off"]
    off = await mod.call("GET", "/admin/audit?action=feature_off", 200)
    assert [(e["action"], e["target_id"]) for e in off] == [("feature_off", "spaces")]
    # A filter naming no such action or target is a mistake to say, not an empty log.
    for query in ("action=feature_offf", "action=", "target_type=features"):
        refused = await mod.http.get(f"/admin/audit?{query}")
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_request"), query
    for person in (mod, host, fan):
        await person.close()


async def test_two_admins_setting_a_switch_and_the_policy_at_once_both_succeed(
    server: ServerThread,
) -> None:
    """The first write of a switch (or of the location policy) makes its row: two at once used
    to both find none and one break the key (500)."""
    mod, other = await admin(server, "mod"), await admin(server, "mia")
    off = {"enabled": False, "message": "Maintenance"}
    policy = {"delay_seconds": 60, "rule": "aircraft-positions", "reason": "Live positions"}
    answers = await asyncio.gather(
        *(m.http.put("/admin/features/spaces.create", json=off) for m in (mod, other)),
        *(m.http.put("/admin/policies/location", json=policy) for m in (mod, other)),
    )
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    assert (await status(server))["spaces.create"]["enabled"] is False
    for person in (mod, other):
        await person.close()


async def test_creation_off_keeps_live_spaces_and_joins(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    fan = await Person.sign_up(server.base_url, "fan")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Stays"}))["id"]
    await mod.call(
        "PUT", "/admin/features/spaces.create", 200, json={"enabled": False, "message": "Busy"}
    )
    refusal = await host.refused("POST", "/spaces", 503, "feature_disabled", json={"title": "New"})
    assert refusal["feature"] == "spaces.create"  # the switch that is off, not `spaces`
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    assert (await host.call("GET", f"/spaces/{sid}", 200))["state"] == "live"
    await fan.refused(
        "PUT", "/admin/features/spaces", 403, "moderators_only", json={"enabled": False}
    )
    await mod.refused(
        "PUT", "/admin/features/video", 422, "unknown_feature", json={"enabled": False}
    )
    for person in (mod, host, fan):
        await person.close()


@pytest.mark.parametrize("captions", ["off", "pocketsphinx"])
async def test_the_status_says_whether_live_spaces_are_captioned(
    tmp_path: Path, captions: str
) -> None:
    """What a client offers a captions toggle by: the operator's setting, as the node runs it."""
    with serve(database_url=sqlite_url(tmp_path), captions=captions) as running:
        async with http_client(base_url=f"{running.base_url}/api/v1") as http:
            said = (await http.get("/status")).json()
    assert said["live_captions"] is (captions != "off")


async def test_the_audit_log_cannot_be_changed_or_deleted(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    await Person.sign_up(server.base_url, "someone")
    await suspend(mod, "someone")
    entries = await mod.call("GET", "/admin/audit", 200)
    assert [(e["action"], e["rule"]) for e in entries] == [("suspend", "harassment")]

    async def tamper(statement: object) -> str:
        try:
            async with server.node.db.write() as conn:
                await conn.execute(statement)  # type: ignore[call-overload]
        except DBAPIError as refused:
            return str(refused.orig)
        return "accepted"

    for statement in (
        update(audit_log).values(reason="nothing happened"),
        delete(audit_log),
    ):
        outcome = server.call(tamper(statement))
        assert "append-only" in outcome, outcome
    assert await mod.call("GET", "/admin/audit", 200) == entries
    await mod.close()


async def test_reports_reach_the_moderators_queue_and_are_resolved_once(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    reporter = await Person.sign_up(server.base_url, "reporter")
    troll = await Person.sign_up(server.base_url, "troll")
    post = await troll.call("POST", "/posts", 201, json={"text": "Something nasty"})
    space = await troll.call("POST", "/spaces", 201, json={"title": "Nasty"})
    for target_type, target_id in [
        ("account", "troll"),
        ("post", post["id"]),
        ("space", space["id"]),
    ]:
        body = {"target_type": target_type, "target_id": target_id, "rule": "harassment"}
        made = await reporter.call("POST", "/reports", 201, json=body)
        assert made["status"] == "open"
    for body, status, code in [
        ({"target_type": "planet", "target_id": "x", "rule": "spam"}, 422, "invalid_target_type"),
        (
            {"target_type": "account", "target_id": "ghost", "rule": "spam"},
            404,
            "account_not_found",
        ),
        ({"target_type": "post", "target_id": "nope", "rule": "spam"}, 404, "post_not_found"),
        ({"target_type": "space", "target_id": "nope", "rule": "spam"}, 404, "space_not_found"),
        ({"target_type": "account", "target_id": "troll", "rule": "No!"}, 422, "invalid_rule"),
    ]:
        await reporter.refused("POST", "/reports", status, code, json=body)
    await reporter.refused("GET", "/admin/reports", 403, "moderators_only")

    queue = await mod.call("GET", "/admin/reports", 200)
    assert [r["target_type"] for r in queue] == ["account", "post", "space"]
    assert queue[0]["reporter_handle"] == "reporter" and queue[0]["target_handle"] == "troll"
    decision = {"status": "actioned", "reason": "Suspended the account"}
    done = await mod.call("POST", f"/admin/reports/{queue[0]['id']}/resolve", 200, json=decision)
    assert done["status"] == "actioned"
    await mod.refused(
        "POST", f"/admin/reports/{queue[0]['id']}/resolve", 409, "already_resolved", json=decision
    )
    assert len(await mod.call("GET", "/admin/reports", 200)) == 2
    audit = await mod.call("GET", "/admin/audit?target_type=report", 200)
    assert [(e["action"], e["rule"]) for e in audit] == [("report_actioned", "harassment")]

    # The reporter hears the verdict of each, once, and nothing of the moderator's notes.
    dismissal = {"status": "dismissed", "reason": "Heated, but within the rules"}
    await mod.call("POST", f"/admin/reports/{queue[1]['id']}/resolve", 200, json=dismissal)
    told = await reporter.call("GET", "/me/notifications", 200)
    assert [n["data"] for n in told] == [
        {
            "report_id": queue[1]["id"],
            "target_type": "post",
            "status": "dismissed",
            "rule": "harassment",
        },
        {
            "report_id": queue[0]["id"],
            "target_type": "account",
            "status": "actioned",
            "rule": "harassment",
        },
    ]
    assert {n["kind"] for n in told} == {"report_resolved"}
    assert "Suspended" not in str(told) and "Heated" not in str(told)
    assert await troll.call("GET", "/me/notifications", 200) == []
    for person in (mod, reporter, troll):
        await person.close()


async def test_a_report_on_a_moderator_or_what_is_theirs_goes_to_another_moderator(
    server: ServerThread,
) -> None:
    """As with an appeal: no moderator resolves a report on their own account, post, space or
    bot (which would let them dismiss what others said of them); another one does."""
    mod, other = await admin(server, "mod"), await admin(server, "other")
    reporter = await Person.sign_up(server.base_url, "reporter")
    post = await mod.call("POST", "/posts", 201, json={"text": "A moderator's post"})
    space = await mod.call("POST", "/spaces", 201, json={"title": "A moderator's space"})
    await make_bot(mod, "mod_bot")
    targets = [("account", "mod"), ("post", post["id"]), ("space", space["id"])]
    made = []
    for target_type, target_id in [*targets, ("account", "mod_bot")]:
        body = {"target_type": target_type, "target_id": target_id, "rule": "harassment"}
        made.append(await reporter.call("POST", "/reports", 201, json=body))
    # The queue says which are about whoever reads it.
    for reader, about_them in ((mod, True), (other, False)):
        queue = await reader.call("GET", "/admin/reports", 200)
        assert [r["about_you"] for r in queue] == [about_them] * 4
    dismissal = {"status": "dismissed", "reason": "Nothing against the rules"}
    for report in made:
        resolve = f"/admin/reports/{report['id']}/resolve"
        await mod.refused("POST", resolve, 403, "cannot_resolve_own_report", json=dismissal)
        assert (await other.call("POST", resolve, 200, json=dismissal))["status"] == "dismissed"
    audit = await other.call("GET", "/admin/audit?target_type=report", 200)
    assert {e["actor_handle"] for e in audit} == {"other"} and len(audit) == 4
    for person in (mod, other, reporter):
        await person.close()
