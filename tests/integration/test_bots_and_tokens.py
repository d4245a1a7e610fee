"""Issue 13, parts 1-3: automated accounts labelled with their owner, API tokens that do only
what their scopes allow and die with a revocation or a suspension at once (sockets included),
and write limits per token and per account that refuse a burst and recover. Over real HTTP,
on SQLite and PostgreSQL where storage matters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.clients import PASSWORD, Person, http_client, make_bot, token_for, unique_handle
from tests.support.moderation import admin, suspend
from tests.support.rate_limits import Clock, assert_rate_limited, limits, moved
from tests.support.servers import (
    ServerThread,
    module_server,
    serve,
    sqlite_url,
    sweeps,
    two_nodes,
)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    """A server of the test's own: for the tests that suspend accounts and read the audit log."""
    with serve(database_url=database_url) as running:
        yield running


# One server per database for the module's tests that only make their own owners, bots, tokens
# and spaces (starting a server was a third of this module's time): each names its accounts
# with `unique_handle` and looks only at what they made.
shared_server = module_server("shared_server", "bots")


def token_id(client: Person, tokens: list[dict[str, Any]]) -> str:
    return str(next(t["id"] for t in tokens if t["account"]["handle"] == client.handle))


async def test_a_bot_and_its_posts_name_its_owner(shared_server: ServerThread) -> None:
    jack, jetwatch = unique_handle("jack"), unique_handle("jetwatch")
    owner = await Person.sign_up(shared_server.base_url, jack)
    bot = await make_bot(owner, jetwatch)
    label = {"owner": {"id": owner.id, "handle": jack}}
    assert bot["automated"] == label and bot["state"] == "active"
    client = await token_for(owner, jetwatch, "posts:write", "account:read")

    await client.call("POST", "/posts", 201, json={"text": "N628TS landed at KAUS"})
    await owner.call("POST", "/posts", 201, json={"text": f"I run @{jetwatch}"})
    (post,) = await owner.call("GET", f"/accounts/{jetwatch}/posts", 200)
    assert post["author"]["handle"] == jetwatch and post["author"]["automated"] == label
    (own,) = await owner.call("GET", f"/accounts/{jack}/posts", 200)
    assert own["author"]["automated"] is None
    assert (await client.call("GET", "/me", 200))["automated"] == label
    assert (await owner.call("GET", f"/accounts/{jetwatch}", 200))["automated"] == label
    assert [b["handle"] for b in await owner.call("GET", "/me/bots", 200)] == [jetwatch]

    # Listed with its last use, never with its secret.
    (listed,) = await owner.call("GET", "/me/tokens", 200)
    assert "token" not in listed and listed["last_used_at"] >= listed["created_at"]
    # Nobody signs in as a bot, whatever the password.
    async with http_client(base_url=f"{shared_server.base_url}/api/v1") as http:
        r = await http.post("/sessions", json={"handle": jetwatch, "password": PASSWORD})
        assert r.status_code == 401
        r = await http.post("/sessions", json={"handle": jetwatch, "password": "!automated"})
        assert r.status_code == 401


async def test_a_token_does_only_what_its_scopes_allow(shared_server: ServerThread) -> None:
    jetwatch = unique_handle("jetwatch")
    owner = await Person.sign_up(shared_server.base_url, unique_handle("jack"))
    await make_bot(owner, jetwatch)
    reader = await token_for(owner, jetwatch, "spaces:read")

    await reader.refused("POST", "/posts", 403, "insufficient_scope", json={"text": "hi"})
    r = await reader.http.post("/posts", json={"text": "hi"})
    assert r.json()["needed"] == "posts:write"
    # The listing is readable (other tests' spaces share the server: none is this bot's).
    listed = await reader.call("GET", "/spaces", 200)
    assert [s for s in listed if s["host"]["id"] == reader.id] == []
    # Routes outside every scope: no token makes tokens, changes passwords or moderates.
    body = {"name": "more", "scopes": ["posts:write"], "bot": jetwatch}
    await reader.refused("POST", "/me/tokens", 403, "insufficient_scope", json=body)
    await reader.refused("DELETE", "/sessions", 403, "insufficient_scope")
    await reader.refused("GET", "/admin/audit", 403, "insufficient_scope")
    # Notices, which a suspended account reads with its appeal token, hold a token to its scopes
    # too: a bot reads its own with `account:read`; no token appeals.
    await reader.refused("GET", "/me/notices", 403, "insufficient_scope")
    notices_reader = await token_for(owner, jetwatch, "account:read")
    assert await notices_reader.call("GET", "/me/notices", 200) == []
    appeal = {"notice_id": "x", "text": "Please"}
    await notices_reader.refused("POST", "/appeals", 403, "insufficient_scope", json=appeal)
    # The owner's own token is scoped just the same; the session that made it has every scope.
    mine = await token_for(owner, None, "posts:read")
    await mine.refused("POST", "/posts", 403, "insufficient_scope", json={"text": "hi"})
    await mine.call("GET", "/timeline", 200)
    await owner.refused("POST", "/me/tokens", 422, "invalid_scope", json={**body, "scopes": ["x"]})
    # Somebody else's bot is not yours to make tokens for.
    other = await Person.sign_up(shared_server.base_url, unique_handle("eve"))
    await other.refused("POST", "/me/tokens", 404, "bot_not_found", json=body)


async def test_a_revoked_token_is_refused_at_once_and_its_socket_closes(
    shared_server: ServerThread,
) -> None:
    jetwatch = unique_handle("jetwatch")
    owner = await Person.sign_up(shared_server.base_url, unique_handle("jack"))
    await make_bot(owner, jetwatch)
    bot = await token_for(owner, jetwatch, "spaces:read", "spaces:listen")
    space = await owner.call("POST", "/spaces", 201, json={"title": "Flights"})
    await bot.call("POST", f"/spaces/{space['id']}/join", 200)
    async with bot.events(space["id"]) as stream:
        await stream.wait_for("snapshot")
        tokens = await owner.call("GET", "/me/tokens", 200)
        await owner.call("DELETE", f"/me/tokens/{token_id(bot, tokens)}", 204)
        await bot.refused("GET", "/spaces", 401, "invalid_token")
        assert await stream.wait_closed(timeout=2.0) == 4401
    assert await owner.call("GET", "/me/tokens", 200) == []


async def test_suspending_the_owner_stops_their_bots_and_lifting_it_restores_only_those(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "jack")
    await make_bot(owner, "jetwatch")
    await make_bot(owner, "spammy")
    bot = await token_for(owner, "jetwatch", "spaces:read", "spaces:listen", "posts:write")
    space = await mod.call("POST", "/spaces", 201, json={"title": "Flights"})
    await bot.call("POST", f"/spaces/{space['id']}/join", 200)
    await suspend(mod, "spammy")  # on its own, before its owner

    async with bot.events(space["id"]) as stream:
        await stream.wait_for("snapshot")
        await suspend(mod, "jack")
        await bot.refused("POST", "/posts", 401, "invalid_token", json={"text": "still here?"})
        assert await stream.wait_closed(timeout=1.0) == 4401
    audit = await mod.call("GET", "/admin/audit", 200)
    bot_entry = next(e for e in audit if e["target_handle"] == "jetwatch")
    assert (bot_entry["action"], bot_entry["rule"]) == ("suspend", "harassment")
    assert bot_entry["actor_handle"] == "mod" and bot_entry["after"]["with_owner"] == owner.id

    # A bot is not lifted while its owner is suspended.
    body = {"reason": "Mistake"}
    await mod.refused(
        "POST", "/admin/accounts/jetwatch/unsuspend", 409, "owner_suspended", json=body
    )
    await mod.call("POST", "/admin/accounts/jack/unsuspend", 200, json=body)
    owner = await Person.sign_in(server.base_url, "jack")
    states = {b["handle"]: b["state"] for b in await owner.call("GET", "/me/bots", 200)}
    assert states == {"jetwatch": "active", "spammy": "suspended"}
    # Its old tokens died with the suspension; a new one works.
    again = await token_for(owner, "jetwatch", "posts:write")
    await again.call("POST", "/posts", 201, json={"text": "back"})
    audit = await mod.call("GET", "/admin/audit", 200)
    assert any(e["action"] == "unsuspend" and e["target_handle"] == "jetwatch" for e in audit), (
        audit
    )


async def test_token_writes_are_limited_per_token_and_per_account_and_recover(
    tmp_path: Path,
) -> None:
    clock = Clock()
    settings = limits(token_writes="3/min", token_writes_account="5/min")
    with serve(database_url=sqlite_url(tmp_path), **settings) as running:
        server = moved(running, clock)
        owner = await Person.sign_up(server.base_url, "jack")
        await make_bot(owner, "jetwatch")
        first = await token_for(owner, "jetwatch", "posts:write", "posts:read")
        second = await token_for(owner, "jetwatch", "posts:write")
        for i in range(3):
            await first.call("POST", "/posts", 201, json={"text": f"burst {i}"})
        r = await first.http.post("/posts", json={"text": "one too many"})
        assert assert_rate_limited(r, "token_writes") == 20
        await first.call("GET", "/timeline", 200)  # reads are not writes
        # Another token of the same bot gets its own three, but the bot only five in all.
        for i in range(2):
            await second.call("POST", "/posts", 201, json={"text": f"other {i}"})
        r = await second.http.post("/posts", json={"text": "over the account's"})
        assert_rate_limited(r, "token_writes_account")
        # The signed-in owner is not counted against the bot's tokens.
        await owner.call("POST", "/posts", 201, json={"text": "me"})

        clock.now += 20  # one write's worth of both windows
        await first.call("POST", "/posts", 201, json={"text": "after the window"})
        await first.refused("POST", "/posts", 429, "rate_limited", json={"text": "again"})


@pytest.mark.postgres
@pytest.mark.redis
async def test_on_two_nodes_a_revocation_and_an_owner_suspension_cut_the_other_node() -> None:
    async with two_nodes() as (a, b):
        mod = await admin(a, "mod")
        owner = await Person.sign_up(a.base_url, "jack")
        await make_bot(owner, "jetwatch")
        await make_bot(owner, "planes")
        scopes = ("spaces:read", "spaces:listen")
        revoked, kept = [await token_for(owner, h, *scopes) for h in ("jetwatch", "planes")]
        # The bots speak through node b.
        revoked, kept = (Person(b.base_url, p.handle, p.token, p.account) for p in (revoked, kept))
        sid = (await mod.call("POST", "/spaces", 201, json={"title": "Flights"}))["id"]
        for bot in (revoked, kept):
            await bot.call("POST", f"/spaces/{sid}/join", 200)
        async with revoked.events(sid) as first, kept.events(sid) as second:
            await first.wait_for("snapshot")
            await second.wait_for("snapshot")
            tokens = await owner.call("GET", "/me/tokens", 200)
            await owner.call("DELETE", f"/me/tokens/{token_id(revoked, tokens)}", 204)
            assert await first.wait_closed(timeout=1.0) == 4401
            await revoked.refused("GET", "/spaces", 401, "invalid_token")
            await suspend(mod, "jack")
            assert await second.wait_closed(timeout=1.0) == 4401
            await kept.refused("GET", "/spaces", 401, "invalid_token")


async def test_a_token_outlives_the_session_lifetime_sockets_included(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path)) as server:
        owner = await Person.sign_up(server.base_url, "jack")
        await make_bot(owner, "jetwatch")
        bot = await token_for(owner, "jetwatch", "spaces:read", "spaces:listen")
        sid = (await owner.call("POST", "/spaces", 201, json={"title": "Flights"}))["id"]
        await bot.call("POST", f"/spaces/{sid}/join", 200)
        later = datetime.now(UTC) + timedelta(days=server.settings.session_lifetime_days + 1)
        server.node.accounts.clock = lambda: later
        async with bot.events(sid) as stream:
            await stream.wait_for("snapshot")
            await sweeps(server, 3)
            assert stream.close_code is None
            await bot.call("GET", "/spaces", 200)
        await owner.refused("GET", "/me", 401, "session_expired")  # the session did expire


async def test_a_bots_own_suspension_running_out_while_its_owner_is_suspended_waits_for_them(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "jack")
    await make_bot(owner, "jetwatch")
    in_an_hour = (server.node.clock.now() + timedelta(hours=1)).isoformat()
    await suspend(mod, "jetwatch", until=in_an_hour)
    await suspend(mod, "jack")
    server.node.clock.advance(timedelta(hours=2))  # past the bot's end
    await sweeps(server, 3)

    found = await mod.call("GET", "/admin/accounts", 200, params={"q": "jetwatch"})
    assert [a["state"] for a in found if a["handle"] == "jetwatch"] == ["suspended"]
    await mod.call("POST", "/admin/accounts/jack/unsuspend", 200, json={"reason": "Cleared"})
    owner = await Person.sign_in(server.base_url, "jack")
    (bot,) = await owner.call("GET", "/me/bots", 200)
    assert bot["state"] == "active"


async def test_a_bot_in_a_space_is_labelled_with_its_owner(shared_server: ServerThread) -> None:
    jack, jetwatch = unique_handle("jack"), unique_handle("jetwatch")
    owner = await Person.sign_up(shared_server.base_url, jack)
    await make_bot(owner, jetwatch)
    label = {"owner": {"id": owner.id, "handle": jack}}
    bot = await token_for(owner, jetwatch, "spaces:read", "spaces:listen", "spaces:host")
    hosted = await bot.call("POST", "/spaces", 201, json={"title": "Departures"})
    assert hosted["host"]["automated"] == label
    assert [p["automated"] for p in hosted["stage"]] == [label]
    sid = (await owner.call("POST", "/spaces", 201, json={"title": "Flights"}))["id"]
    joined = await bot.call("POST", f"/spaces/{sid}/join", 200)
    assert joined["automated"] == label
    listeners = await owner.call("GET", f"/spaces/{sid}/listeners", 200)
    assert {p["handle"]: p["automated"] for p in listeners} == {jetwatch: label}
    space = await owner.call("GET", f"/spaces/{sid}", 200)
    assert space["host"]["automated"] is None and space["stage"][0]["automated"] is None
    async with owner.events(hosted["id"]) as stream:
        snapshot = await stream.wait_for("snapshot")
        assert snapshot["data"]["stage"][0]["automated"] == label


async def test_deleting_a_bot_revokes_its_tokens_at_once_and_hides_it(
    shared_server: ServerThread,
) -> None:
    base_url, jetwatch = shared_server.base_url, unique_handle("jetwatch")
    owner = await Person.sign_up(base_url, unique_handle("jack"))
    await make_bot(owner, jetwatch)
    bot = await token_for(owner, jetwatch, "spaces:read", "spaces:listen", "posts:write")
    await bot.call("POST", "/posts", 201, json={"text": "N628TS landed at KAUS"})
    follower = await Person.sign_up(base_url, unique_handle("fan"))
    await follower.call("POST", f"/accounts/{jetwatch}/follow", 204)
    sid = (await owner.call("POST", "/spaces", 201, json={"title": "Flights"}))["id"]
    await bot.call("POST", f"/spaces/{sid}/join", 200)
    stranger = await Person.sign_up(base_url, unique_handle("eve"))
    await stranger.refused("DELETE", f"/me/bots/{jetwatch}", 404, "bot_not_found")

    async with bot.events(sid) as stream:
        await stream.wait_for("snapshot")
        await owner.call("DELETE", f"/me/bots/{jetwatch}", 204)
        await bot.refused("POST", "/posts", 401, "invalid_token", json={"text": "still here?"})
        assert await stream.wait_closed(timeout=1.0) == 4401
    assert await owner.call("GET", "/me/bots", 200) == []
    assert await owner.call("GET", "/me/tokens", 200) == []
    await owner.refused("GET", f"/accounts/{jetwatch}", 404, "account_not_found")
    assert await follower.call("GET", "/timeline", 200) == []
    await owner.refused("DELETE", f"/me/bots/{jetwatch}", 404, "bot_not_found")
    # Its handle is not freed for someone to pose as it.
    body = {"handle": jetwatch, "display_name": "Imposter"}
    await stranger.refused("POST", "/me/bots", 409, "handle_taken", json=body)
