"""A moderator limits an account, the step below a suspension: it keeps its sessions and may
listen, read, follow, report and appeal, but not post, host, come on stage, react or edit its
profile (403 `account_limited`; someone asking it on stage gets 409 `account_limited`). It comes
off every stage at once (a host's space passes to a cohost, or ends), its bots are limited with
it, it is told why and may appeal; the limit ends with its time, a moderator, or an overturned
appeal. Whoever the account is. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from parley.core.accounts import AccountState
from parley.store.accounts import AccountStore
from tests.support.clients import Person, bring_on_stage, make_bot, token_for
from tests.support.moderation import LIMIT_RULE as RULE
from tests.support.moderation import admin, limit
from tests.support.servers import ServerThread, serve, sweeps, wait_until


@pytest.fixture
async def unswept(database_url: str) -> AsyncIterator[ServerThread]:
    """A node whose sweep waits an hour: what happens at once is the limit's own doing."""
    with serve(database_url=database_url, sweep_interval_seconds=3600) as running:
        yield running


async def stage_of(person: Person, space_id: str) -> dict[str, str]:
    space = await person.call("GET", f"/spaces/{space_id}", 200)
    return {p["handle"]: p["role"] for p in space["stage"]}


async def test_a_limited_account_listens_but_does_not_post_host_speak_or_react(
    unswept: ServerThread,
) -> None:
    server = unswept
    mod = await admin(server, "mod")
    host, lee = [await Person.sign_up(server.base_url, h) for h in ("host", "lee")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open mic"}))["id"]
    await lee.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, lee, sid)
    assert (await stage_of(host, sid))["lee"] == "speaker"

    async with host.events(sid) as events:
        await events.wait_for("snapshot")
        done = await limit(mod, "lee")
        changed = await events.wait_for("role_changed")
    assert changed["data"]["handle"] == "lee" and changed["data"]["role"] == "listener"
    assert "lee" not in await stage_of(host, sid)
    assert done["notice"]["action"] == "limit"  # type: ignore[index]
    # Still signed in (and told so), still in the space, listening.
    me = await lee.call("GET", "/me", 200)
    assert (me["handle"], me["state"]) == ("lee", "limited")
    listeners = await host.call("GET", f"/spaces/{sid}/listeners", 200)
    assert "lee" in {p["handle"] for p in listeners}

    for method, path, body in (
        ("POST", "/posts", {"text": "Buy now"}),
        ("POST", "/spaces", {"title": "My own space"}),
        ("POST", f"/spaces/{sid}/hand", None),
        ("POST", f"/spaces/{sid}/reactions", {"emoji": "👏"}),
        ("POST", f"/spaces/{sid}/unmute", None),
        ("PATCH", "/accounts/me", {"bio": "Buy now"}),
    ):
        problem = await lee.refused(method, path, 403, "account_limited", json=body)
        assert "limited" in problem["title"]
    await host.refused("POST", f"/spaces/{sid}/speakers/lee", 409, "account_limited")
    await host.refused("POST", f"/spaces/{sid}/cohosts/lee", 409, "account_limited")
    # What stays: reading, following, reporting, and the notice with its appeal.
    await lee.call("GET", "/timeline", 200)
    await lee.call("POST", "/accounts/host/follow", 204)
    report = {"target_type": "account", "target_id": "host", "rule": "spam"}
    await lee.call("POST", "/reports", 201, json=report)
    (notice,) = await lee.call("GET", "/me/notices", 200)
    assert notice["text"].startswith("Your account was limited (you can listen and read")
    assert "under the rule “spam”. Reason: Advertising in every space" in notice["text"]

    # Lifted by a moderator: told, and at once free to post and speak.
    await mod.call("POST", "/admin/accounts/lee/unlimit", 200, json={"reason": "A mistake"})
    await lee.call("POST", "/posts", 201, json={"text": "Back"})
    assert (await lee.call("GET", "/me", 200))["state"] == "active"
    await lee.call("POST", f"/spaces/{sid}/hand", 204)
    unlimited, limited = await lee.call("GET", "/me/notifications", 200)
    assert (unlimited["kind"], unlimited["data"]["reason"]) == ("unlimited", "A mistake")
    assert limited["kind"] == "limited"
    assert limited["data"] == {"notice_id": notice["id"], "rule": "spam", "until": None}
    audited = await mod.call("GET", "/admin/audit?target_id=" + lee.id, 200)
    assert [e["action"] for e in audited] == ["unlimit", "limit"]
    for person in (mod, host, lee):
        await person.close()


async def test_the_open_rooms_of_an_account_are_told_when_a_limit_is_set_or_lifted(
    unswept: ServerThread,
) -> None:
    """So a listener's room stops offering "Request to speak" at once, not at the refusal."""
    mod = await admin(unswept, "mod")
    host, lee = [await Person.sign_up(unswept.base_url, h) for h in ("host", "lee")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open mic"}))["id"]
    await lee.call("POST", f"/spaces/{sid}/join", 200)
    async with lee.events(sid) as mine, host.events(sid) as theirs:
        await mine.wait_for("snapshot")
        await theirs.wait_for("snapshot")
        await limit(mod, "lee")
        await mine.wait_for("account", state="limited")
        await mod.call("POST", "/admin/accounts/lee/unlimit", 200, json={"reason": "Sorry"})
        await mine.wait_for("account", state="active")
    assert not [e for e in theirs.received if e.get("type") == "account"]  # only its own
    for person in (mod, host, lee):
        await person.close()


async def test_a_limited_host_hands_the_space_to_a_cohost_or_it_ends(
    unswept: ServerThread,
) -> None:
    server = unswept
    mod = await admin(server, "mod")
    host, co, lou = [await Person.sign_up(server.base_url, h) for h in ("host", "co", "lou")]
    shared = (await host.call("POST", "/spaces", 201, json={"title": "Panel"}))["id"]
    alone = (await host.call("POST", "/spaces", 201, json={"title": "Solo"}))["id"]
    for person in (co, lou):
        await person.call("POST", f"/spaces/{shared}/join", 200)
    await host.call("POST", f"/spaces/{shared}/cohosts/co", 204)

    async with lou.events(shared) as events, lou.events(alone) as solo_events:
        await events.wait_for("snapshot")
        await solo_events.wait_for("snapshot")
        await limit(mod, "host")
        handed = await events.wait_for("host_changed")
        ended = await solo_events.wait_for("space_ended")
    assert ended["data"]["reason"] == "host_limited"
    assert handed["data"]["handle"] == "co" and handed["data"]["reason"] == "host_limited"
    assert await stage_of(lou, shared) == {"co": "host"}
    listeners = await lou.call("GET", f"/spaces/{shared}/listeners", 200)
    assert "host" in {p["handle"] for p in listeners}  # still here, listening
    assert (await lou.call("GET", f"/spaces/{alone}", 200))["state"] == "ended"
    for person in (mod, host, co, lou):
        await person.close()


async def test_a_limit_ends_with_its_time_and_on_an_overturned_appeal(
    server: ServerThread,
) -> None:
    mod, other_mod = await admin(server, "mod"), await admin(server, "mia")
    ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await limit(mod, "ada", until=until)
    server.node.clock.advance(timedelta(days=1, minutes=1))
    await wait_until(lambda: _can_post(ada), timeout=10)
    unlimited, limited = await ada.call("GET", "/me/notifications", 200)
    assert (unlimited["kind"], unlimited["data"]["reason"]) == ("unlimited", "The limit ended")
    assert datetime.fromisoformat(limited["data"]["until"]) == datetime.fromisoformat(until)

    await limit(mod, "ben")
    (notice,) = await ben.call("GET", "/me/notices", 200)
    appeal = await ben.call(
        "POST", "/appeals", 201, json={"notice_id": notice["id"], "text": "Not spam"}
    )
    decision = {"decision": "overturned", "reason": "Ordinary posts"}
    await other_mod.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
    await ben.call("POST", "/posts", 201, json={"text": "Thank you"})
    for person in (mod, other_mod, ada, ben):
        await person.close()


async def _can_post(person: Person) -> bool:
    r = await person.http.post("/posts", json={"text": "Am I back?"})
    return r.status_code == 201


async def test_a_limited_owners_bots_are_limited_with_them(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "owner")
    await make_bot(owner, "owner_bot")
    bot = await token_for(owner, "owner_bot", "posts:write")
    await limit(mod, "owner")
    await bot.refused("POST", "/posts", 403, "account_limited", json={"text": "Still here"})
    states = {b["handle"]: b["state"] for b in await owner.call("GET", "/me/bots", 200)}
    assert states == {"owner_bot": "limited"}

    await mod.call("POST", "/admin/accounts/owner/unlimit", 200, json={"reason": "Served"})
    await bot.call("POST", "/posts", 201, json={"text": "Back to work"})
    for person in (mod, owner, bot):
        await person.close()


async def test_a_bots_own_limit_that_runs_out_waits_for_its_limited_owner(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "owner")
    await make_bot(owner, "owner_bot")
    bot = await token_for(owner, "owner_bot", "posts:write")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await limit(mod, "owner_bot", until=until)
    await limit(mod, "owner")
    server.node.clock.advance(timedelta(hours=2))
    await sweeps(server)  # the bot's own limit ran out there: held, with its owner's
    states = {b["handle"]: b["state"] for b in await owner.call("GET", "/me/bots", 200)}
    assert states == {"owner_bot": "limited"}
    await bot.refused("POST", "/posts", 403, "account_limited", json={"text": "Free?"})
    await mod.call("POST", "/admin/accounts/owner/unlimit", 200, json={"reason": "Served"})
    await bot.call("POST", "/posts", 201, json={"text": "Back with my owner"})
    for person in (mod, owner, bot):
        await person.close()


async def test_who_may_limit_whom(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
    await ada.refused("POST", "/admin/accounts/ben/limit", 403, "moderators_only", json=RULE)
    await mod.refused("POST", "/admin/accounts/mod/limit", 409, "cannot_limit_self", json=RULE)
    await mod.refused(
        "POST", "/admin/accounts/ben/unlimit", 409, "not_limited", json={"reason": "No"}
    )
    await mod.refused(
        "POST",
        "/admin/accounts/ben/limit",
        422,
        "invalid_until",
        json={**RULE, "until": "2001-01-01T00:00:00Z"},
    )
    await limit(mod, "ben")
    await mod.refused("POST", "/admin/accounts/ben/limit", 409, "already_limited", json=RULE)
    await mod.call("POST", "/admin/accounts/ada/suspend", 200, json=RULE)
    await mod.refused("POST", "/admin/accounts/ada/limit", 409, "already_suspended", json=RULE)
    # The same rules for moderators: another one limits this one.
    other = await admin(server, "mia")
    await limit(other, "mod")
    await mod.refused("POST", "/posts", 403, "account_limited", json={"text": "Hm"})
    for person in (mod, ada, ben, other):
        await person.close()


async def test_a_limited_moderator_reads_the_console_but_neither_acts_nor_lifts_her_own_limit(
    server: ServerThread,
) -> None:
    """Found by trying it: limited by another moderator, she lifted her own limit (200) and
    limited whoever she liked. Now she reads the queues and acts on nothing until another
    moderator lifts it; and no moderator lifts a restriction of her own bot, as none decides
    its appeal."""
    mod, mia = await admin(server, "mod"), await admin(server, "mia")
    ben = await Person.sign_up(server.base_url, "ben")
    post = await ben.call("POST", "/posts", 201, json={"text": "Buy now"})
    report = await mia.call(
        "POST", "/reports", 201, json={"target_type": "post", "target_id": post["id"], **RULE}
    )
    await limit(mia, "mod")
    lift = {"reason": "Mine to lift"}
    await mod.refused("POST", "/admin/accounts/mod/unlimit", 403, "account_limited", json=lift)
    acts = [
        ("/admin/accounts/mia/limit", RULE),
        ("/admin/accounts/ben/suspend", RULE),
        (f"/admin/posts/{post['id']}/remove", RULE),
        (f"/admin/reports/{report['id']}/resolve", {"status": "dismissed", "reason": "No"}),
        (
            "/admin/link-rules",
            {"match": "host", "pattern": "x.example", "verdict": "block", **RULE},
        ),
    ]
    for path, body in acts:
        await mod.refused("POST", path, 403, "account_limited", json=body)
    await mod.refused(
        "PUT", "/admin/features/spaces", 403, "account_limited", json={"enabled": False}
    )
    # Reading stays: the queue she may not work, and the audit log that shows what was done.
    assert [r["id"] for r in await mod.call("GET", "/admin/reports", 200)] == [report["id"]]
    audit = await mod.call("GET", "/admin/audit", 200)
    assert [(a["action"], a["target_id"]) for a in audit] == [("limit", mod.id)]
    assert (await mia.call("GET", "/admin/accounts?q=ben", 200))[0]["state"] == "active"

    await mia.call("POST", "/admin/accounts/mod/unlimit", 200, json={"reason": "Mistaken"})
    await mod.call("POST", "/admin/accounts/ben/limit", 200, json=RULE)  # a moderator again
    await make_bot(mod, "modbot")
    await limit(mia, "modbot")
    await mod.refused(
        "POST", "/admin/accounts/modbot/unlimit", 403, "cannot_lift_own_restriction", json=lift
    )
    await mia.call("POST", "/admin/accounts/modbot/unlimit", 200, json={"reason": "Fine"})
    for person in (mod, mia, ben):
        await person.close()


async def test_the_sweep_takes_a_limited_account_off_a_stage_the_limit_missed(
    server: ServerThread,
) -> None:
    """As a node that stopped between the limit's commit and the stage would leave it."""
    host, lee = [await Person.sign_up(server.base_url, h) for h in ("host", "lee")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open mic"}))["id"]
    await lee.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, lee, sid)
    server.call(_set_limited(server, lee.id))
    await wait_until(lambda: _off_stage(host, sid, "lee"), timeout=5)
    for person in (host, lee):
        await person.close()


async def _set_limited(server: ServerThread, account_id: str) -> None:
    async with server.node.db.write() as conn:
        await AccountStore(conn).set_state(account_id, AccountState.LIMITED)


async def _off_stage(person: Person, space_id: str, handle: str) -> bool:
    return handle not in await stage_of(person, space_id)
