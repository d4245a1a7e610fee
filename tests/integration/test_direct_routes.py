"""`POST /join` is answered without FastAPI's dependency solving (api/direct.py): the same
contract as every other route, checked here at the edges dependency solving used to handle
(the bearer header, token scopes, the per-account limit, the response's shape)."""

from __future__ import annotations

from typing import Any

import pytest
import websockets

from tests.support.clients import EventStream, Person, http_client, token_for
from tests.support.problems import refused
from tests.support.rate_limits import GENEROUS, assert_rate_limited
from tests.support.servers import serve, sqlite_url


async def _space(host: Person) -> str:
    made: dict[str, Any] = await host.call("POST", "/spaces", 201, json={"title": "Direct"})
    return str(made["id"])


async def test_join_reads_the_bearer_header_as_every_route_does(tmp_path: Any) -> None:
    with serve(database_url=sqlite_url(tmp_path)) as server:
        host = await Person.sign_up(server.base_url, "ada")
        bob = await Person.sign_up(server.base_url, "bob")
        sid = await _space(host)
        join = f"/spaces/{sid}/join"
        async with http_client(base_url=f"{server.base_url}/api/v1") as http:
            for headers in (
                {},
                {"Authorization": f"Basic {bob.token}"},
                {"Authorization": "Bearer"},
            ):
                refusal = await refused(http, "POST", join, 401, "unauthenticated", headers=headers)
                assert refusal["status"] == 401
            r = await http.post(join, headers={"Authorization": "Bearer not-a-token"})
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            r = await http.post(join, headers={"Authorization": "Bearer x"})
            assert r.headers["www-authenticate"] == "Bearer"
            # The scheme is case-insensitive, and blanks before the token are not its own.
            r = await http.post(join, headers={"Authorization": f"bearer  {bob.token}"})
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/json"
        assert r.json() == {
            "account_id": bob.id,
            "handle": "bob",
            "role": "listener",
            "muted": True,
            "hand_raised": False,
            "invited": False,
            "present": True,
            "audio_lost": False,
            "automated": None,
        }
        await refused(host.http, "POST", "/spaces/nowhere/join", 404, "space_not_found")


async def test_join_keeps_token_scopes(tmp_path: Any) -> None:
    with serve(database_url=sqlite_url(tmp_path)) as server:
        host = await Person.sign_up(server.base_url, "ada")
        sid = await _space(host)
        writer = await token_for(host, None, "posts:write")
        await writer.refused("POST", f"/spaces/{sid}/join", 403, "insufficient_scope")
        listener = await token_for(host, None, "spaces:listen")
        await listener.call("POST", f"/spaces/{sid}/join", 200)


async def test_join_counts_against_the_accounts_space_actions(tmp_path: Any) -> None:
    limits = {"rate_limit_overrides": {**GENEROUS, "space_actions": "3/min"}}
    with serve(database_url=sqlite_url(tmp_path), **limits) as server:
        host = await Person.sign_up(server.base_url, "ada")
        bob = await Person.sign_up(server.base_url, "bob")
        sid = await _space(host)
        async with http_client(base_url=f"{server.base_url}/api/v1") as anon:
            for _ in range(5):  # not signed in: refused, and counted against nobody
                await refused(anon, "POST", f"/spaces/{sid}/join", 401, "unauthenticated")
        await bob.call("POST", f"/spaces/{sid}/join", 200)
        await bob.call("POST", f"/spaces/{sid}/hand", 204)  # the same allowance
        await bob.call("POST", f"/spaces/{sid}/join", 200)
        assert_rate_limited(await bob.http.post(f"/spaces/{sid}/join"), "space_actions")
        # Another account's allowance is its own.
        await host.call("POST", f"/spaces/{sid}/join", 200)


async def test_the_event_socket_is_answered_at_the_door_as_its_route_would(tmp_path: Any) -> None:
    """api/app.py hands the event socket to its handler past the middlewares and routers: the
    space id is read from the path as the route reads it, and only that path is taken so."""
    with serve(database_url=sqlite_url(tmp_path)) as server:
        host = await Person.sign_up(server.base_url, "ada")
        sid = await _space(host)
        async with host.events(sid) as stream:
            snapshot = await stream.wait_for("snapshot")
            assert snapshot["data"]["id"] == sid
        ws = server.base_url.replace("http://", "ws://") + "/api/v1/spaces"
        async with EventStream(f"{ws}/nowhere/events", token=host.token) as stream:
            assert await stream.wait_closed() == 4404
        assert stream.received == [{"type": "error", "code": "space_not_found"}]
        # A longer path is not the event socket: the router has no socket there.
        with pytest.raises(websockets.InvalidStatus):
            async with EventStream(f"{ws}/{sid}/events/more", token=host.token):
                pass
