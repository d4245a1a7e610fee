"""A suspension reaches every path at once, on SQLite and PostgreSQL; each test fails if one
path is missed: sign-in, an old token, the event socket, the media connection, hosting, joining,
speaking. No kind of account is exempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage, http_client, sign_in_answer
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve, sqlite_url, wait_until


async def test_sign_in_is_refused_with_the_notice_and_an_appeal_only_token(
    server: ServerThread,
) -> None:
    mod, reviewer = await admin(server, "mod"), await admin(server, "reviewer")
    troll = await Person.sign_up(server.base_url, "troll")
    await suspend(mod, "troll")

    r = await sign_in_answer(server.base_url, "troll")
    assert r.status_code == 403 and r.json()["code"] == "account_suspended", r.text
    notice = r.json()["notice"]
    assert (notice["rule"], notice["reason"]) == ("harassment", "Threats against another speaker")
    assert "appeal" in notice["text"]
    # The wrong password learns nothing about the suspension.
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        wrong = await http.post("/sessions", json={"handle": "troll", "password": "nope-nope"})
    assert wrong.status_code == 401 and "notice" not in wrong.json()

    # The token that comes with the refusal reads notices and appeals, and nothing else.
    limited = Person(server.base_url, "troll", r.json()["appeal_token"], troll.account)
    notices = await limited.call("GET", "/me/notices", 200)
    assert [n["id"] for n in notices] == [notice["id"]]
    await limited.refused("GET", "/me", 403, "appeal_only")
    await limited.refused("POST", "/spaces", 403, "appeal_only", json={"title": "Back"})
    appeal = await limited.call(
        "POST", "/appeals", 201, json={"notice_id": notice["id"], "text": "It was a quote."}
    )
    await limited.refused(
        "POST", "/appeals", 409, "already_appealed", json={"notice_id": notice["id"], "text": "!"}
    )
    # Overturned on appeal (by a moderator who took no part in it): the account is back.
    decided = await reviewer.call(
        "POST",
        f"/admin/appeals/{appeal['id']}/decide",
        200,
        json={"decision": "overturned", "reason": "Context shows it was a quote"},
    )
    assert decided["decision"] == "overturned"
    assert (await sign_in_answer(server.base_url, "troll")).status_code == 201
    await limited.refused("GET", "/me/notices", 403, "appeal_only")
    await reviewer.refused(
        "POST",
        f"/admin/appeals/{appeal['id']}/decide",
        409,
        "already_decided",
        json={"decision": "upheld", "reason": "again"},
    )
    for person in (mod, reviewer, troll, limited):
        await person.close()


async def test_an_appeal_sent_twice_at_once_is_taken_once(server: ServerThread) -> None:
    """A double click on "Send appeal": one appeal, the other told so, never a 500."""
    mod = await admin(server, "mod")
    troll = await Person.sign_up(server.base_url, "troll")
    notice_id = (await suspend(mod, "troll"))["notice"]["id"]  # type: ignore[index]
    token = (await sign_in_answer(server.base_url, "troll")).json()["appeal_token"]
    appealing = Person(server.base_url, "troll", token, troll.account)
    body = {"notice_id": notice_id, "text": "It was a quote."}
    answers = await asyncio.gather(*(appealing.http.post("/appeals", json=body) for _ in range(3)))
    got = sorted((r.status_code, r.json().get("code")) for r in answers)
    assert got == [(201, None), (409, "already_appealed"), (409, "already_appealed")]
    assert len(await mod.call("GET", "/admin/appeals", 200)) == 1
    for person in (mod, troll, appealing):
        await person.close()


async def test_old_tokens_and_open_sockets_stop_at_once_for_admins_too(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    other_admin = await admin(server, "boss")  # no exemption for admins
    host = await Person.sign_up(server.base_url, "host")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open"}))["id"]
    await other_admin.call("POST", f"/spaces/{sid}/join", 200)
    async with other_admin.events(sid) as stream, host.events(sid) as watcher:
        await stream.wait_for("snapshot")
        started = time.monotonic()
        await suspend(mod, "boss")
        code = await stream.wait_closed(timeout=1.0)
        closed_after = time.monotonic() - started
        assert code == 4401, code
        removed = await watcher.wait_for("participant_removed", account_id=other_admin.id)
        assert removed["data"]["reason"] == "suspended"
    print(f"socket closed {1000 * closed_after:.0f} ms after the suspension request")
    await other_admin.refused("GET", "/me", 401, "invalid_token")
    await other_admin.refused("POST", f"/spaces/{sid}/join", 401, "invalid_token")
    # A new socket is refused too.
    async with other_admin.events(sid) as again:
        assert await again.wait_closed() == 4401
    view = await host.call("GET", f"/spaces/{sid}", 200)
    assert view["listener_count"] == 0
    for person in (mod, other_admin, host):
        await person.close()


async def test_a_suspended_host_hands_over_at_once_or_the_space_ends(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    cohost = await Person.sign_up(server.base_url, "cohost")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Handed over"}))["id"]
    await cohost.call("POST", f"/spaces/{sid}/join", 200)
    await host.call("POST", f"/spaces/{sid}/cohosts/cohost", 204)
    alone = (await host.call("POST", "/spaces", 201, json={"title": "Alone"}))["id"]
    scheduled_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = await host.call(
        "POST", "/spaces", 201, json={"title": "Later", "scheduled_start": scheduled_at}
    )
    async with cohost.events(sid) as stream:
        await stream.wait_for("snapshot")
        await suspend(mod, "host")
        # No grace period: the cohost is host now, not after PARLEY_HOST_GRACE_SECONDS.
        changed = await stream.wait_for("host_changed", timeout=1.0)
        assert changed["data"]["account_id"] == cohost.id
    view = await cohost.call("GET", f"/spaces/{sid}", 200)
    assert (view["state"], view["host"]["handle"]) == ("live", "cohost")
    assert host.id not in [p["account_id"] for p in view["stage"]]
    # Alone, the space ended: removed by moderation, for good. The scheduled one is withheld
    # while the suspension lasts, and comes back cancelled when it is lifted.
    await cohost.refused("GET", f"/spaces/{alone}", 410, "space_removed")
    await cohost.refused("GET", f"/spaces/{later['id']}", 404, "space_unavailable")
    await mod.call("POST", "/admin/accounts/host/unsuspend", 200, json={"reason": "Appeal upheld"})
    assert (await cohost.call("GET", f"/spaces/{later['id']}", 200))["state"] == "cancelled"
    await cohost.refused("GET", f"/spaces/{alone}", 410, "space_removed")
    ended = await cohost.call("GET", "/spaces?state=ended", 200)
    assert alone not in [s["id"] for s in ended], ended
    for person in (mod, host, cohost):
        await person.close()


async def test_a_time_limited_suspension_lifts_itself(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    await Person.sign_up(server.base_url, "brief")
    until = datetime.now(UTC) + timedelta(seconds=1.5)
    await suspend(mod, "brief", until=until.isoformat())
    assert (await sign_in_answer(server.base_url, "brief")).status_code == 403

    async def lifted() -> list[dict[str, Any]] | None:
        audit: list[dict[str, Any]] = await mod.call("GET", "/admin/audit?target_type=account", 200)
        return audit if audit[0]["action"] == "unsuspend" else None

    # The sweeper lifts it within a sweep interval of `until`, never before.
    audit = await wait_until(lifted, timeout=5.0)
    assert datetime.fromisoformat(audit[0]["at"]) >= until
    assert (await sign_in_answer(server.base_url, "brief")).status_code == 201
    assert [e["action"] for e in audit][:2] == ["unsuspend", "suspend"]
    assert audit[0]["actor_id"] is None and audit[0]["rule"] == "expired"
    await mod.close()


async def test_only_moderators_suspend_and_bad_requests_change_nothing(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user")
    body = {"rule": "spam", "reason": "Spam"}
    await user.refused("POST", "/admin/accounts/mod/suspend", 403, "moderators_only", json=body)
    await mod.refused("POST", "/admin/accounts/mod/suspend", 409, "cannot_suspend_self", json=body)
    await mod.refused("POST", "/admin/accounts/ghost/suspend", 404, "account_not_found", json=body)
    for bad, code in [
        ({"rule": "Not A Rule!", "reason": "x"}, "invalid_rule"),
        ({"rule": "spam", "reason": "  "}, "invalid_reason"),
        ({"rule": "spam", "reason": "x", "until": "2000-01-01T00:00:00Z"}, "invalid_until"),
    ]:
        await mod.refused("POST", "/admin/accounts/user/suspend", 422, code, json=bad)
    await mod.refused(
        "POST", "/admin/accounts/user/unsuspend", 409, "not_suspended", json={"reason": "x"}
    )
    assert (await sign_in_answer(server.base_url, "user")).status_code == 201
    assert await mod.call("GET", "/admin/audit", 200) == []
    await suspend(mod, "user")
    await mod.refused("POST", "/admin/accounts/user/suspend", 409, "already_suspended", json=body)
    await user.refused("GET", "/admin/audit", 401, "invalid_token")
    for person in (mod, user):
        await person.close()


async def test_the_transparency_report_counts_actions_per_rule(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    for handle in ("a", "b"):
        await Person.sign_up(server.base_url, handle)
        await suspend(mod, handle, rule="spam")
    await mod.call("POST", "/admin/accounts/a/unsuspend", 200, json={"reason": "Mistake"})
    newest = (await mod.call("GET", "/admin/audit", 200))[0]
    assert (newest["action"], newest["actor_handle"], newest["target_handle"]) == (
        "unsuspend",
        "mod",
        "a",
    )
    me = await mod.call("GET", "/me", 200)
    assert me["is_admin"] is True
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        report = (await http.get("/transparency")).json()["actions"]
    month = datetime.now(UTC).strftime("%Y-%m")
    assert {
        "period": month,
        "action": "suspend",
        "rule": "spam",
        "count": 2,
        "outcome": None,
    } in report
    lifted = {"period": month, "action": "unsuspend", "rule": "unsuspend", "count": 1}
    assert lifted | {"outcome": None} in report
    await mod.close()


# --- media: one database is enough, the audio path is the same ----------------------------


@pytest.fixture
async def media_server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path)) as running:
        yield running


async def test_a_suspended_speaker_is_silenced_and_their_media_closed(
    media_server: ServerThread,
) -> None:
    server = media_server
    mod = await admin(server, "mod")
    host, speaker, listener = [
        await Person.sign_up(server.base_url, h) for h in ("host", "speaker", "listener")
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Loud"}))["id"]
    for person in (speaker, listener):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, speaker, sid)
    voice = await MediaClient.connect(speaker, sid, tone=440.0)
    ear = await MediaClient.connect(listener, sid)
    try:
        await ear.hearing.until("hears", 440.0)
        started = time.monotonic()
        await suspend(mod, "speaker")
        await ear.hearing.until("silent_at", 440.0, timeout=1.0)
        gone = ear.hearing.silent_since(440.0, started)
        assert gone is not None and gone < 1.0
        deadline = time.monotonic() + 1.0
        while voice.pc.connectionState != "closed":
            assert time.monotonic() < deadline, voice.pc.connectionState
            await asyncio.sleep(0.02)
        print(f"suspended speaker silent at the listener after {1000 * gone:.0f} ms")
        await speaker.refused(
            "POST",
            f"/spaces/{sid}/media",
            401,
            "invalid_token",
            json={"sdp": "v=0", "type": "offer"},
        )
    finally:
        await voice.close()
        await ear.close()
    for person in (mod, host, speaker, listener):
        await person.close()
