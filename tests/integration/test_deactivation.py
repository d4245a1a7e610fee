"""A person deletes their account: with their password only, at once everywhere (every session,
token, socket and space, on every node), for good, and taking their bots, posts and profile out
of sight; on SQLite and PostgreSQL. Each test fails if one of those paths is missed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from parley.core.accounts import AccountState
from parley.store.tables import accounts
from tests.support.clients import PASSWORD, Person, http_client, make_bot, sign_in_answer, token_for
from tests.support.moderation import admin
from tests.support.servers import ServerThread, serve, two_nodes, wait_until


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, sweep_interval_seconds=0.2) as running:
        yield running


async def deactivate(person: Person) -> None:
    await person.call("POST", "/accounts/me/deactivate", 204, json={"password": PASSWORD})


async def test_a_deleted_account_is_out_of_every_space_and_signed_out_at_once(
    server: ServerThread,
) -> None:
    ada, cody, omar = [await Person.sign_up(server.base_url, h) for h in ("ada", "cody", "omar")]
    hosted = (await ada.call("POST", "/spaces", 201, json={"title": "Ada's"}))["id"]
    await cody.call("POST", f"/spaces/{hosted}/join", 200)
    await ada.call("POST", f"/spaces/{hosted}/cohosts/cody", 204)
    elsewhere = (await omar.call("POST", "/spaces", 201, json={"title": "Omar's"}))["id"]
    await ada.call("POST", f"/spaces/{elsewhere}/join", 200)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = await ada.call(
        "POST", "/spaces", 201, json={"title": "Ada later", "scheduled_start": later}
    )
    second_device = await Person.sign_in(server.base_url, "ada")

    async with (
        ada.events(hosted) as own,
        second_device.events(elsewhere) as other_tab,
        cody.events(hosted) as cody_sees,
        omar.events(elsewhere) as omar_sees,
    ):
        for stream in (own, other_tab, cody_sees, omar_sees):
            await stream.wait_for("snapshot")
        started = time.monotonic()
        await deactivate(ada)
        # Every socket of hers, on either session, closes and says why.
        for stream in (own, other_tab):
            assert await stream.wait_closed(timeout=1.0) == 4401
            assert stream.close_reason == "account_deactivated"
        closed_after = time.monotonic() - started
        # Her live space passes to her cohost at once (no grace period); she left Omar's.
        changed = await cody_sees.wait_for("host_changed", timeout=1.0)
        assert (changed["data"]["account_id"], changed["data"]["reason"]) == (
            cody.id,
            "host_deactivated",
        )
        left = await omar_sees.wait_for("participant_removed", timeout=1.0, account_id=ada.id)
        assert left["data"]["reason"] == "deactivated"
    print(f"sockets closed {1000 * closed_after:.0f} ms after the deletion")

    view = await cody.call("GET", f"/spaces/{hosted}", 200)
    assert (view["state"], view["host"]["handle"]) == ("live", "cody")
    assert ada.id not in [p["account_id"] for p in view["stage"]]
    assert (await omar.call("GET", f"/spaces/{elsewhere}", 200))["listener_count"] == 0
    # Her scheduled space is gone from the listings and its page.
    listed = await omar.call("GET", "/spaces?state=scheduled", 200)
    assert scheduled["id"] not in [s["id"] for s in listed]
    await omar.refused("GET", f"/spaces/{scheduled['id']}", 404, "space_unavailable")
    # No session of hers works, she cannot sign in, and nobody can take her handle.
    for session in (ada, second_device):
        await session.refused("GET", "/me", 401, "invalid_token")
    refused = await sign_in_answer(server.base_url, "ada")
    assert refused.status_code == 403 and refused.json()["code"] == "account_deactivated"
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        taken = await http.post(
            "/accounts", json={"handle": "Ada", "password": PASSWORD, "display_name": "Not Ada"}
        )
    assert taken.status_code == 409 and taken.json()["code"] == "handle_taken"
    for person in (ada, second_device, cody, omar):
        await person.close()


async def test_her_posts_profile_follows_and_bots_go_with_her(server: ServerThread) -> None:
    ada, fan = [await Person.sign_up(server.base_url, h) for h in ("ada", "fan")]
    await ada.call("POST", "/posts", 201, json={"text": "Hello from Ada"})
    await make_bot(ada, "adabot")
    bot = await token_for(ada, "adabot", "posts:write", "posts:read")
    await bot.call("POST", "/posts", 201, json={"text": "Beep from Ada's bot"})
    for followed in ("ada", "adabot"):
        await fan.call("POST", f"/accounts/{followed}/follow", 204)
    timeline = await fan.call("GET", "/timeline", 200)
    assert {p["author"]["handle"] for p in timeline} == {"ada", "adabot"}
    assert (await fan.call("GET", "/accounts/fan", 200))["following"] == 2

    await deactivate(ada)

    assert await fan.call("GET", "/timeline", 200) == []
    for handle in ("ada", "adabot"):
        await fan.refused("GET", f"/accounts/{handle}", 404, "account_not_found")
        await fan.refused("GET", f"/accounts/{handle}/posts", 404, "account_not_found")
    assert (await fan.call("GET", "/accounts/fan", 200))["following"] == 0
    await bot.refused("GET", "/timeline", 401, "invalid_token")
    for person in (ada, fan, bot):
        await person.close()


async def test_only_with_her_password_and_never_the_last_admin(server: ServerThread) -> None:
    boss = await admin(server, "boss")
    ada = await Person.sign_up(server.base_url, "ada")
    own_token = await token_for(ada, None, "account:read", "account:write")
    body = {"password": "not-her-password"}
    await ada.refused("POST", "/accounts/me/deactivate", 403, "wrong_password", json=body)
    await ada.refused("POST", "/accounts/me/deactivate", 422, "invalid_request", json={})
    # A token is not a signed-in person: it cannot delete the account, whatever its scopes.
    await own_token.refused(
        "POST",
        "/accounts/me/deactivate",
        403,
        "insufficient_scope",
        json={"password": PASSWORD},
    )
    # Nothing changed: both still work.
    await ada.call("GET", "/me", 200)
    await own_token.call("GET", "/me", 200)
    # The only admin would leave the instance with nobody to run it.
    await boss.refused(
        "POST", "/accounts/me/deactivate", 409, "last_admin", json={"password": PASSWORD}
    )
    await boss.call("GET", "/me", 200)
    deputy = await admin(server, "deputy")
    await deactivate(boss)
    await boss.refused("GET", "/me", 401, "invalid_token")
    for person in (boss, ada, own_token, deputy):
        await person.close()


async def test_a_suspension_and_a_deletion_at_once_make_one_change(server: ServerThread) -> None:
    """Whichever comes first holds; the other is refused. Never a deleted account suspended
    (which lifting the suspension would bring back) nor both written."""
    mod = await admin(server, "mod")
    for n in range(4):
        ada = await Person.sign_up(server.base_url, f"ada{n}")
        rule = {"rule": "spam", "reason": "At once"}
        deleted, suspended = await asyncio.gather(
            ada.http.post("/accounts/me/deactivate", json={"password": PASSWORD}),
            mod.http.post(f"/admin/accounts/ada{n}/suspend", json=rule),
        )
        codes = sorted([deleted.status_code, suspended.status_code])
        assert codes[0] in (200, 204) and codes[1] >= 400, (deleted.text, suspended.text)
        found = await mod.call("GET", "/admin/accounts", 200, params={"q": f"ada{n}"})
        state = "deactivated" if deleted.status_code < 400 else "suspended"
        assert [a["state"] for a in found] == [state]
        await ada.close()
    await mod.close()


async def test_the_sweep_takes_out_an_account_deleted_half_way(server: ServerThread) -> None:
    """The node that deleted it stopped after the transaction: every node's sweep takes the
    account out of the spaces it is still in."""
    host, ada = [await Person.sign_up(server.base_url, h) for h in ("host", "ada")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open"}))["id"]
    await ada.call("POST", f"/spaces/{sid}/join", 200)

    async def deactivate_quietly() -> None:
        async with server.node.db.write() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == ada.id)
                .values(state=AccountState.DEACTIVATED.value)
            )

    async with host.events(sid) as watcher:
        await watcher.wait_for("snapshot")
        server.call(deactivate_quietly())
        removed = await watcher.wait_for("participant_removed", timeout=2.0, account_id=ada.id)
        assert (removed["data"]["reason"], removed["data"]["by"]) == ("deactivated", ada.id)
    assert (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"] == 0
    for person in (host, ada):
        await person.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_her_socket_on_another_node_closes_within_a_second() -> None:
    async with two_nodes(session_cache_seconds=3600) as (a, b):
        host, ada = [await Person.sign_up(a.base_url, h) for h in ("host", "ada")]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Open"}))["id"]
        ada_b = Person(b.base_url, ada.handle, ada.token, ada.account)
        await ada_b.call("POST", f"/spaces/{sid}/join", 200)
        async with ada_b.events(sid) as stream:
            await stream.wait_for("snapshot")
            started = time.monotonic()
            await deactivate(ada)  # through node a
            assert await stream.wait_closed(timeout=1.0) == 4401
            assert stream.close_reason == "account_deactivated"
            assert time.monotonic() - started < 1.0
        await wait_until(
            lambda: ada.id not in b.node.accounts.session_cache.account_ids(), timeout=1.0
        )
        await ada_b.refused("GET", "/me", 401, "invalid_token")
        for person in (host, ada, ada_b):
            await person.close()
