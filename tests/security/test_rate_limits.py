"""Issue 8, finding 3: limits on every abusable path.

Before: 300 wrong passwords in 48 s and then the right one worked; 40 clients flooding wrong
passwords slowed a legitimate sign-in to 5 s; sign-ups, posts, reactions (73/s from one
listener), sockets and anonymous link checks had no limit at all. Now one mechanism (GCRA, in
Redis across nodes) refuses with 429 problem documents carrying `Retry-After`, checked before any
argon2 work, per account, per address and, for sign-in, per target handle.

The limiter's clock is moved forward instead of waiting out a window.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from parley.core.ratelimit import LimitName
from parley.services.ratelimit import RedisStore
from tests.support.clients import PASSWORD, Person, http_client
from tests.support.rate_limits import Clock, assert_rate_limited, limits, moved
from tests.support.servers import (
    ServerThread,
    serve,
    sqlite_url,
)
from tests.support.servers import (
    two_nodes as shared_nodes,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def api(server: ServerThread, address: str | None = None) -> httpx.AsyncClient:
    headers = {"X-Forwarded-For": address} if address else {}
    return http_client(base_url=f"{server.base_url}/api/v1", headers=headers, timeout=20)


async def sign_in(http: httpx.AsyncClient, handle: str, password: str) -> httpx.Response:
    return await http.post("/sessions", json={"handle": handle, "password": password})


def count_argon2(server: ServerThread) -> list[int]:
    """How many password verifications the node has run (argon2's work), from now on."""
    calls = [0]
    passwords = server.node.passwords
    verify = passwords.verify

    async def counted(stored: str | None, password: str, *, known: bool = False) -> bool:
        calls[0] += 1
        return await verify(stored, password, known=known)

    passwords.verify = counted  # type: ignore[method-assign]
    return calls


async def test_guessing_a_password_stops_at_the_limit_and_costs_no_argon2_beyond_it(
    database_url: str, clock: Clock
) -> None:
    with serve(database_url=database_url, **limits(sign_in_address="5/min")) as running:
        server = moved(running, clock)
        await Person.sign_up(server.base_url, "ada")
        argon2 = count_argon2(server)
        async with api(server, "198.51.100.7") as attacker:
            answers = [await sign_in(attacker, "ada", f"guess {i}") for i in range(40)]
            assert [r.status_code for r in answers[:5]] == [401] * 5
            for r in answers[5:]:
                assert_rate_limited(r, "sign_in_address")
            # The right password is refused too while the limit holds: guessing it proves
            # nothing, and the node did argon2 work only for the five counted attempts.
            assert_rate_limited(await sign_in(attacker, "ada", PASSWORD), "sign_in_address")
            assert argon2[0] == 5
            clock.now += 12  # one attempt's worth of time (5 per minute)
            assert (await sign_in(attacker, "ada", PASSWORD)).status_code == 201


async def test_many_addresses_against_one_handle_meet_its_limit_but_its_owner_gets_in(
    tmp_path: Path, clock: Clock
) -> None:
    settings = limits(sign_in_handle="10/5min")
    with serve(database_url=sqlite_url(tmp_path), **settings) as running:
        server = moved(running, clock)
        await Person.sign_up(server.base_url, "ada")  # from 127.0.0.1, ada's own address
        argon2 = count_argon2(server)
        statuses = []
        for i in range(30):  # a botnet: every guess from another address
            async with api(server, f"203.0.113.{i + 1}") as bot:
                r = await sign_in(bot, "ada", f"guess {i}")
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert_rate_limited(r, "sign_in_handle")
        # Ada's own first sign-in (at sign-up, from an address not yet known) took one of ten.
        assert statuses == [401] * 9 + [429] * 21
        assert argon2[0] == 9
        # Ada, from the address she signed in from before, is not locked out by the flood.
        async with api(server) as ada:
            assert (await sign_in(ada, "ada", PASSWORD)).status_code == 201
        # An unknown handle is limited the same way: the answers do not tell which exist.
        refusals = []
        for i in range(11):
            async with api(server, f"192.0.2.{i + 1}") as bot:
                refusals.append((await sign_in(bot, "nobody", "guess")).status_code)
        assert refusals == [401] * 10 + [429]


async def test_sign_ups_per_address(tmp_path: Path, clock: Clock) -> None:
    with serve(database_url=sqlite_url(tmp_path), **limits(sign_up_address="3/h")) as running:
        server = moved(running, clock)

        async def sign_up(http: httpx.AsyncClient, handle: str) -> httpx.Response:
            body = {"handle": handle, "password": PASSWORD, "display_name": handle}
            return await http.post("/accounts", json=body)

        async with api(server, "198.51.100.7") as farm, api(server, "198.51.100.8") as other:
            assert [(await sign_up(farm, f"sock{i}")).status_code for i in range(3)] == [201] * 3
            retry_after = assert_rate_limited(await sign_up(farm, "sock3"), "sign_up_address")
            assert 1100 <= retry_after <= 1200  # one sign-up per 20 minutes after the burst
            assert (await sign_up(other, "someone")).status_code == 201
            clock.now += retry_after
            assert (await sign_up(farm, "sock3")).status_code == 201


LimitedCall = Callable[[Person, int], Awaitable[httpx.Response]]


async def _space(host: Person) -> str:
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Limits"}))["id"]
    return str(sid)


@pytest.mark.parametrize(
    ("limit", "rate", "allowed"),
    [("posts", "5/min", 5), ("reactions", "10/5s", 10), ("links_minted", "4/min", 4)],
)
async def test_an_accounts_writes_are_limited_and_accepted_again_after_the_window(
    tmp_path: Path, clock: Clock, limit: str, rate: str, allowed: int
) -> None:
    with serve(database_url=sqlite_url(tmp_path), **limits(**{limit: rate})) as running:
        server = moved(running, clock)
        ada = await Person.sign_up(server.base_url, "ada")
        bob = await Person.sign_up(server.base_url, "bob")
        cy = await Person.sign_up(server.base_url, "cy")
        sid = await _space(ada)
        for person in (bob, cy):
            await person.call("POST", f"/spaces/{sid}/join", 200)

        async def write(person: Person, i: int) -> httpx.Response:
            if limit == "posts":
                return await person.http.post("/posts", json={"text": f"post {i}"})
            if limit == "reactions":
                return await person.http.post(f"/spaces/{sid}/reactions", json={"emoji": "👏"})
            return await person.http.post("/links", json={"url": f"https://example.org/{i}"})

        answers = [(await write(bob, i)).status_code for i in range(allowed)]
        assert all(200 <= s < 300 for s in answers), answers
        retry_after = assert_rate_limited(await write(bob, allowed), limit)
        # Another account is not held up by bob's burst.
        assert (await write(cy, 0)).status_code < 300
        clock.now += retry_after
        assert (await write(bob, allowed + 1)).status_code < 300


async def test_anonymous_link_checks_are_limited_per_address(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), **limits(link_checks_address="5/min")) as server:
        async with api(server, "198.51.100.7") as scanner, api(server, "198.51.100.8") as reader:
            urls = [f"https://example.org/{i}" for i in range(6)]
            answers = [await scanner.get("/links/check", params={"url": u}) for u in urls]
            assert [r.status_code for r in answers[:5]] == [200] * 5
            assert_rate_limited(answers[5], "link_checks_address")
            r = await reader.get("/links/check", params={"url": "https://example.org/"})
            assert r.status_code == 200


async def test_opening_sockets_too_fast_is_refused_with_4429(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), **limits(sockets_opened="3/min")) as server:
        ada = await Person.sign_up(server.base_url, "ada")
        sid = await _space(ada)
        for _ in range(3):
            async with ada.events(sid) as stream:
                await stream.wait_for("snapshot")
        async with ada.events(sid) as refused:
            assert await refused.wait_closed() == 4429
        assert [m.get("code") for m in refused.received] == ["rate_limited"]


async def test_a_password_change_is_limited_per_account(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), **limits(password_change="2/5min")) as server:
        ada = await Person.sign_up(server.base_url, "ada")
        wrong = {"current_password": "not it at all", "new_password": "another long one"}
        for _ in range(2):
            await ada.refused("POST", "/accounts/me/password", 403, "wrong_password", json=wrong)
        r = await ada.http.post("/accounts/me/password", json=wrong)
        assert_rate_limited(r, "password_change")


async def test_a_full_argon2_queue_answers_503_busy_at_once(tmp_path: Path) -> None:
    """More sign-ins than the gate holds are refused with 503 and Retry-After, not queued
    behind each other for seconds; nothing is a 500."""
    settings = {**limits(), "argon2_concurrency": 1, "argon2_queue": 2, "argon2_time_cost": 3}
    settings["argon2_memory_kib"] = 16384
    with serve(database_url=sqlite_url(tmp_path), **settings) as server:
        await Person.sign_up(server.base_url, "ada")
        async with api(server, "198.51.100.7") as http:
            answers = await asyncio.gather(*(sign_in(http, "bob", "wrong") for _ in range(12)))
            statuses = sorted(r.status_code for r in answers)
            assert 401 in statuses and 503 in statuses and set(statuses) <= {401, 503}, statuses
            busy = next(r for r in answers if r.status_code == 503)
            assert busy.json()["code"] == "busy" and busy.headers["retry-after"] == "1"
            # Meanwhile ada, from her own address, goes first and is never told "busy".
            async with api(server) as ada:
                flood = [sign_in(http, "bob", "wrong") for _ in range(12)]
                mine = sign_in(ada, "ada", PASSWORD)
                *_, answer = await asyncio.gather(*flood, mine)
                assert answer.status_code == 201


@pytest.fixture
async def two_nodes() -> AsyncIterator[tuple[ServerThread, ServerThread]]:
    # A prefix of its own: the keys of other tests and runs on this Redis do not count here.
    prefix = f"parley:test:{secrets.token_hex(4)}:"
    settings = {**limits(sign_in_address="6/min"), "rate_limit_key_prefix": prefix}
    async with shared_nodes(**settings) as nodes:
        yield nodes


@pytest.mark.postgres
@pytest.mark.redis
async def test_limits_hold_across_nodes(two_nodes: tuple[ServerThread, ServerThread]) -> None:
    """An attacker alternating between two nodes behind a balancer gets no more tries."""
    a, b = two_nodes
    await Person.sign_up(a.base_url, "ada")
    async with api(a, "198.51.100.7") as on_a, api(b, "198.51.100.7") as on_b:
        statuses = [
            (await sign_in((on_a, on_b)[i % 2], "ada", "guess")).status_code for i in range(8)
        ]
    assert statuses == [401] * 6 + [429] * 2
    refused = a.node.limits.refused[LimitName.SIGN_IN_ADDRESS]
    assert refused + b.node.limits.refused[LimitName.SIGN_IN_ADDRESS] == 2


async def test_with_redis_gone_each_node_still_limits(tmp_path: Path) -> None:
    """Redis down: limits fall back to each node's memory (logged, counted in /metrics), rather
    than refusing everyone or letting everything through."""
    settings = limits(posts="2/min")
    dead_redis = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with serve(database_url=sqlite_url(tmp_path), **settings) as server:
        server.node.limits._store = RedisStore(dead_redis, "parley:test:")
        ada = await Person.sign_up(server.base_url, "ada")
        for i in range(2):
            await ada.call("POST", "/posts", 201, json={"text": f"post {i}"})
        assert_rate_limited(await ada.http.post("/posts", json={"text": "one more"}), "posts")
        assert server.node.limits.fallbacks >= 3
        async with http_client() as http:
            metrics = (await http.get(f"{server.base_url}/metrics")).text
        assert 'parley_rate_limited_total{limit="posts"} 1.0' in metrics
        assert "parley_rate_limit_fallbacks_total" in metrics


async def test_every_route_that_writes_for_an_account_has_a_limit(tmp_path: Path) -> None:
    """A new write route without a limit fails here: the probe found the ones we forgot."""
    from fastapi.routing import APIRoute

    exempt = {
        # Ending, leaving and hanging up must always work; signing out too.
        ("POST", "/api/v1/spaces/{space_id}/end"),
        ("POST", "/api/v1/spaces/{space_id}/leave"),
        ("DELETE", "/api/v1/spaces/{space_id}/media"),
        ("DELETE", "/api/v1/sessions/current"),
        ("DELETE", "/api/v1/sessions"),
        # Checked inside: the limit depends on the body (sign-in) or an appeal token.
        ("POST", "/api/v1/sessions"),
        ("POST", "/api/v1/appeals"),
        # Undoing: unfollow, unblock, deleting one's own post.
        ("DELETE", "/api/v1/accounts/{handle}/follow"),
        ("DELETE", "/api/v1/accounts/{handle}/block"),
        ("DELETE", "/api/v1/posts/{post_id}"),
    }
    with serve(database_url=sqlite_url(tmp_path)) as server:
        unlimited = []
        for route in server.app.routes:
            if not isinstance(route, APIRoute) or "/admin/" in route.path:
                continue  # moderators' tools: a handful of trusted accounts
            for method in (route.methods or set()) - {"GET", "HEAD"}:
                names = [d.call.__qualname__ for d in route.dependant.dependencies if d.call]
                if "limit.<locals>.check" not in names and (method, route.path) not in exempt:
                    unlimited.append(f"{method} {route.path}")
        assert unlimited == []
