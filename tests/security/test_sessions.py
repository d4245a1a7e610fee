"""Issue 8, finding 4 (sessions) and the sockets-per-account part of finding 3.

Tokens expire (idle and absolute, appeal tokens within the hour), a password change and "sign
out everywhere" end sessions, an ended session's sockets and media close at once on every node
and say why, no token reaches a URL or the server's log, an event socket authenticates by its
first message, and one account cannot hold more than a few sockets on a node.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bench.common import server_process
from parley.services.common import hash_token, utcnow
from parley.store.tables import sessions
from tests.support.audio import MediaClient
from tests.support.clients import PASSWORD, EventStream, Person, http_client
from tests.support.moderation import admin, suspend
from tests.support.servers import (
    ServerThread,
    serve,
    sqlite_url,
    two_nodes,
    wait_until,
)

# What the server's log shows instead of a token (parley/api/logs.py).
REDACTED = "[redacted]"


def events_url(base_url: str, space_id: str) -> str:
    return f"{base_url.replace('http://', 'ws://')}/api/v1/spaces/{space_id}/events"


async def space_with(host: Person, *people: Person) -> str:
    sid = str((await host.call("POST", "/spaces", 201, json={"title": "Sessions"}))["id"])
    for person in people:
        await person.call("POST", f"/spaces/{sid}/join", 200)
    return sid


def error_codes(stream: EventStream) -> list[str]:
    return [str(m["code"]) for m in stream.received if m.get("type") == "error"]


def last_used(server: ServerThread, token_owner: Person) -> datetime:
    """When the session was last recorded as used (what idle expiry reads)."""

    async def read() -> datetime:
        async with server.node.db.read() as conn:
            query = select(sessions.c.last_used_at).where(
                sessions.c.token_hash == hash_token(token_owner.token)
            )
            value: datetime = (await conn.execute(query)).scalar_one()
            return value

    return server.call(read())


async def test_sessions_expire_when_idle_or_too_old_and_appeal_tokens_within_the_hour(
    server: ServerThread,
) -> None:
    clock = server.node.clock  # moved ahead as the test says: days pass without waiting
    ada = await Person.sign_up(server.base_url, "ada")
    signed_in_at = last_used(server, ada)

    # Used a minute later: fine, and not written down (at most once per few minutes).
    clock.ahead = timedelta(minutes=1)
    await ada.call("GET", "/me", 200)
    assert last_used(server, ada) == signed_in_at
    # Used every 29 days, it slides on...
    for days in (29, 58):
        clock.ahead = timedelta(days=days)
        await ada.call("GET", "/me", 200)
    assert last_used(server, ada) > signed_in_at + timedelta(days=57)
    # ...and 31 days without use end it.
    clock.ahead = timedelta(days=58 + 31)
    await ada.refused("GET", "/me", 401, "session_expired")

    # However often it is used, a session ends after 90 days.
    clock.ahead = timedelta(0)
    bob = await Person.sign_up(server.base_url, "bob")
    for days in (20, 40, 60, 80):
        clock.ahead = timedelta(days=days)
        await bob.call("GET", "/me", 200)
    clock.ahead = timedelta(days=91)
    await bob.refused("GET", "/me", 401, "session_expired")

    # A suspended account's appeal token reads its notices for an hour, not for a month.
    clock.ahead = timedelta(0)
    mod = await admin(server, "mod")
    await Person.sign_up(server.base_url, "troll")
    await suspend(mod, "troll")
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        refused = await http.post("/sessions", json={"handle": "troll", "password": PASSWORD})
    limited = Person(server.base_url, "troll", refused.json()["appeal_token"], {})
    await limited.call("GET", "/me/notices", 200)
    clock.ahead = timedelta(minutes=61)
    await limited.refused("GET", "/me/notices", 401, "session_expired")

    # A socket open when its session expires is closed, saying so (the sweep notices).
    clock.ahead = timedelta(0)
    cy = await Person.sign_up(server.base_url, "cy")
    sid = await space_with(mod, cy)
    async with cy.events(sid) as stream:
        await stream.wait_for("snapshot")
        clock.ahead = timedelta(days=31)
        assert await stream.wait_closed(timeout=2.0) == 4401
    assert error_codes(stream) == ["session_expired"]
    for person in (ada, bob, mod, limited, cy):
        await person.close()


async def test_a_password_change_ends_every_other_session_and_closes_its_sockets(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "host")
    phone = await Person.sign_up(server.base_url, "ada")
    laptop = await Person.sign_in(server.base_url, "ada")
    sid = await space_with(host, phone)
    change = "/accounts/me/password"

    await phone.refused(
        "POST",
        change,
        403,
        "wrong_password",
        json={"current_password": "not it at all", "new_password": "a new long password"},
    )
    await phone.refused(
        "POST",
        change,
        422,
        "invalid_password",
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    await laptop.call("GET", "/me", 200)  # neither refusal ended anything

    async with laptop.events(sid) as on_laptop, phone.events(sid) as on_phone:
        await on_laptop.wait_for("snapshot")
        await on_phone.wait_for("snapshot")
        body = {"current_password": PASSWORD, "new_password": "a new long password"}
        await phone.call("POST", change, 204, json=body)
        assert await on_laptop.wait_closed(timeout=1.0) == 4401
        assert error_codes(on_laptop) == ["session_revoked"]
        # The session that changed the password goes on, socket included.
        await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Still here"})
        await on_phone.wait_for("space_updated")
    await laptop.refused("GET", "/me", 401, "invalid_token")
    await phone.call("GET", "/me", 200)
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        old = await http.post("/sessions", json={"handle": "ada", "password": PASSWORD})
        new = await http.post(
            "/sessions", json={"handle": "ada", "password": "a new long password"}
        )
    assert (old.status_code, new.status_code) == (401, 201)
    for person in (host, phone, laptop):
        await person.close()


async def test_signing_out_everywhere_ends_every_session_this_one_too(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "host")
    devices = [await Person.sign_up(server.base_url, "ada")]
    devices += [await Person.sign_in(server.base_url, "ada") for _ in range(2)]
    sid = await space_with(host, devices[0])
    async with devices[1].events(sid) as first, devices[2].events(sid) as second:
        await first.wait_for("snapshot")
        await second.wait_for("snapshot")
        await devices[2].call("DELETE", "/sessions", 204)
        for stream in (first, second):
            assert await stream.wait_closed(timeout=1.0) == 4401
            assert error_codes(stream) == ["session_revoked"]
    for device in devices:
        await device.refused("GET", "/me", 401, "invalid_token")
    await host.call("GET", "/me", 200)  # nobody else's sessions
    for person in (host, *devices):
        await person.close()


async def test_a_session_revoked_without_a_word_on_the_bus_still_loses_its_socket(
    server: ServerThread,
) -> None:
    """The bus can drop a message (Redis reconnecting, a command-line tool on another bus):
    each node's sweep re-checks the sessions of its open sockets."""
    host = await Person.sign_up(server.base_url, "host")
    ada = await Person.sign_up(server.base_url, "ada")
    sid = await space_with(host, ada)

    async def revoke_quietly() -> None:
        async with server.node.db.write() as conn:
            await conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == hash_token(ada.token))
                .values(revoked_at=utcnow())
            )

    async with ada.events(sid) as stream, host.events(sid) as other:
        await stream.wait_for("snapshot")
        await other.wait_for("snapshot")
        server.call(revoke_quietly())
        assert await stream.wait_closed(timeout=2.0) == 4401
        assert other.close_code is None
    assert error_codes(stream) == ["session_revoked"]
    for person in (host, ada):
        await person.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_signing_out_closes_that_sessions_socket_and_media_on_another_node_at_once() -> None:
    async with two_nodes() as (a, b):
        host = await Person.sign_up(b.base_url, "host")
        laptop = await Person.sign_up(b.base_url, "ada")
        phone = await Person.sign_in(b.base_url, "ada")
        sid = await space_with(host, laptop)
        ear = await MediaClient.connect(laptop, sid)  # on b, with the laptop's session
        try:
            async with laptop.events(sid) as on_laptop, phone.events(sid) as on_phone:
                await on_laptop.wait_for("snapshot")
                await on_phone.wait_for("snapshot")
                on_a = Person(a.base_url, "ada", laptop.token, laptop.account)
                started = time.monotonic()
                await on_a.call("DELETE", "/sessions/current", 204)
                assert await on_laptop.wait_closed(timeout=1.0) == 4401
                socket_closed = time.monotonic() - started
                assert error_codes(on_laptop) == ["session_revoked"]
                await wait_until(lambda: ear.pc.connectionState == "closed", timeout=1.0)
                media_closed = time.monotonic() - started
                # The same account's other session keeps its socket.
                await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "On"})
                await on_phone.wait_for("space_updated")
                assert on_phone.close_code is None
            print(
                f"on the other node: socket closed after {1000 * socket_closed:.0f} ms, "
                f"media after {1000 * media_closed:.0f} ms"
            )
            await on_a.close()
        finally:
            await ear.close()
        for person in (host, laptop, phone):
            await person.close()


async def test_no_token_reaches_the_log_of_parley_serve() -> None:
    with server_process(PARLEY_LOG_LEVEL="info") as running:
        host = await Person.sign_up(running.base, "host")
        ada = await Person.sign_up(running.base, "ada")
        sid = await space_with(host, ada)
        url = events_url(running.base, sid)
        # The web client's way (first message), an old client's (?token=), and a careless URL.
        async with (
            ada.events(sid) as first_message,
            EventStream(f"{url}?token={host.token}") as in_query,
        ):
            await first_message.wait_for("snapshot")
            await in_query.wait_for("snapshot")
        await host.call("GET", f"/spaces/{sid}?token={ada.token}", 200)
        log = running.log_path.read_text()
        for person in (host, ada):
            await person.close()
    assert '"WebSocket /api/v1/spaces/' in log, log[-2000:]
    assert f"token={REDACTED}" in log, log[-2000:]
    assert host.token not in log and ada.token not in log


async def test_a_socket_authenticates_by_its_first_message_or_is_closed(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), socket_auth_seconds=0.5) as running:
        host = await Person.sign_up(running.base_url, "host")
        sid = await space_with(host)
        url = events_url(running.base_url, sid)
        # The first message carries the token; no token anywhere in the URL.
        async with EventStream(url, token=host.token) as by_message:
            await by_message.wait_for("snapshot")
        assert "token" not in host.events(sid).url
        # Non-browser clients: the Authorization header.
        bearer = {"Authorization": f"Bearer {host.token}"}
        async with EventStream(url, headers=bearer) as by_header:
            await by_header.wait_for("snapshot")
        # A socket that says nothing is closed once the time is up; one that says something
        # else than its token at once.
        async with EventStream(url) as silent:
            started = time.monotonic()
            assert await silent.wait_closed(timeout=3.0) == 4401
            assert time.monotonic() - started >= 0.4
        assert error_codes(silent) == ["unauthenticated"]
        async with EventStream(url, token="not a token") as wrong:
            assert await wrong.wait_closed() == 4401
        assert error_codes(wrong) == ["invalid_token"]
        await host.close()


async def test_one_account_holds_at_most_n_sockets_per_node(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), max_sockets_per_account=3) as running:
        host = await Person.sign_up(running.base_url, "host")
        hog = await Person.sign_up(running.base_url, "hog")
        sid = await space_with(host, hog)
        streams = [hog.events(sid) for _ in range(3)]
        for stream in streams:
            await stream.__aenter__()
            await stream.wait_for("snapshot")
        async with hog.events(sid) as extra:
            assert await extra.wait_closed() == 4429
        assert error_codes(extra) == ["too_many_sockets"]
        # Other accounts are not affected, and a closed socket frees its place.
        async with host.events(sid) as other:
            await other.wait_for("snapshot")
        await streams.pop().__aexit__(None, None, None)

        async def admitted() -> bool:
            async with hog.events(sid) as again:
                with contextlib.suppress(TimeoutError):
                    await again.wait_for("snapshot", timeout=1.0)
                return any(m.get("type") == "snapshot" for m in again.received)

        await wait_until(admitted, timeout=3.0)
        for stream in streams:
            await stream.__aexit__(None, None, None)
        for person in (host, hog):
            await person.close()
