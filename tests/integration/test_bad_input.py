"""Bad input through the real HTTP API, on SQLite and on PostgreSQL: every refusal is a 4xx problem
document with the rule's own `code` (never a 500), and a refused request changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.clients import PASSWORD, Person, http_client, unique_handle
from tests.support.problems import assert_problem, raw_json, refused
from tests.support.servers import ServerThread, module_server

API = "/api/v1"


# One server per database for the whole module (per pytest-xdist worker), not one per test:
# starting a server (and a PostgreSQL database) was most of this module's time. The tests share
# it, so each signs up accounts of its own (`unique_handle`) and looks only at its own spaces
# and posts.
server = module_server("server", "bad-input")


async def listed_spaces_of(person: Person, state: str = "live") -> list[str]:
    """The ids of the person's spaces in the listing of `state`. Other tests' spaces are listed
    too; one page holds them all (checked), so a space missing here is missing from the listing."""
    listed = await person.call("GET", f"/spaces?state={state}&limit=200", 200)
    assert len(listed) < 200, "the listing no longer fits one page"
    return [s["id"] for s in listed if s["host"]["id"] == person.id]


@pytest.fixture
async def anon(server: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a bearer token, rooted at the server (not at /api/v1)."""
    async with http_client(base_url=server.base_url, timeout=10) as http:
        yield http


@pytest.fixture
async def host(server: ServerThread) -> AsyncIterator[Person]:
    person = await Person.sign_up(server.base_url, unique_handle("host"), "The Host")
    yield person
    await person.close()


@pytest.fixture
async def space(host: Person) -> dict[str, Any]:
    """A live space of the host's, with a description and topics to compare against later."""
    body = {"title": "Original title", "description": "About things", "topics": ["a", "b"]}
    created: dict[str, Any] = await host.call("POST", "/spaces", 201, json=body)
    return created


def iso(moment: datetime) -> str:
    return moment.isoformat()


def timezone_plus(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


async def sign_up(anon: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"handle": "someone", "password": PASSWORD, "display_name": "Someone", **fields}
    return await anon.post(f"{API}/accounts", json=body)


# --- spaces: titles, descriptions, topics, schedules -----------------------------------------


async def test_space_titles_and_topics_are_checked(host: Person) -> None:
    for body, code in [
        ({"title": "x" * 101}, "invalid_title"),
        ({"title": ""}, "invalid_title"),
        ({"title": "   \t\n "}, "invalid_title"),
        ({"title": "ok", "description": "d" * 1001}, "invalid_description"),
        ({"title": "ok", "topics": ["a", "b", "c", "d"]}, "invalid_topics"),
        ({"title": "ok", "topics": ["t" * 31]}, "invalid_topics"),
        ({"title": "ok", "topics": ["  "]}, "invalid_topics"),
    ]:
        await refused(host.http, "POST", "/spaces", 422, code, json=body)

    # Nothing was created by the refusals; the limits themselves are accepted.
    assert await listed_spaces_of(host) == []
    longest = {"title": "x" * 100, "topics": ["t" * 30, "b", "c"], "description": "d" * 1000}
    created = await host.call("POST", "/spaces", 201, json=longest)
    assert created["title"] == "x" * 100 and created["topics"] == ["t" * 30, "b", "c"]
    assert await listed_spaces_of(host) == [created["id"]]


async def test_a_refused_edit_changes_nothing(host: Person, space: dict[str, Any]) -> None:
    path = f"/spaces/{space['id']}"
    for body, code in [
        ({"title": "x" * 101}, "invalid_title"),
        ({"title": "  "}, "invalid_title"),
        ({"description": "d" * 1001}, "invalid_description"),
        ({"topics": ["a", "b", "c", "d"]}, "invalid_topics"),
        # One bad field refuses the whole change: the good ones are not applied either.
        ({"description": "New description", "title": "x" * 101}, "invalid_title"),
        ({"title": "New title", "topics": ["t" * 31]}, "invalid_topics"),
    ]:
        await refused(host.http, "PATCH", path, 422, code, json=body)

    after = await host.call("GET", path, 200)
    for key in ("title", "description", "topics", "seq"):
        assert after[key] == space[key], key


async def test_schedules_are_checked(host: Person) -> None:
    now = datetime.now(UTC)
    for start in [
        now - timedelta(minutes=1),
        now - timedelta(days=400),
        now + timedelta(days=30, hours=1),
        now + timedelta(days=3650),
        (now + timedelta(days=1)).replace(tzinfo=None),  # no time zone
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, tzinfo=timezone_plus(14)),
    ]:
        body = {"title": "Later", "scheduled_start": iso(start)}
        await refused(host.http, "POST", "/spaces", 422, "invalid_schedule", json=body)
    body = {"title": "Later", "scheduled_start": "tomorrow at noon"}
    await refused(host.http, "POST", "/spaces", 422, "invalid_request", json=body)

    assert await listed_spaces_of(host, "scheduled") == []
    assert await listed_spaces_of(host) == []
    # A start in a day, in another time zone, is fine.
    start = (now + timedelta(days=1)).astimezone(timezone_plus(-5))
    created = await host.call(
        "POST", "/spaces", 201, json={"title": "Later", "scheduled_start": iso(start)}
    )
    assert created["state"] == "scheduled"


# --- accounts: handles, passwords, profiles, posts -------------------------------------------


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "a" * 16,
        "two words",
        " padded",
        "trailing\n",
        "héllo",
        "名前",
        "ｆｕｌｌ",  # fullwidth letters
        "\u212aelvin",  # KELVIN SIGN, which lower-cases to an ASCII "k"
        "dash-dash",
        "@at",
        "dot.ted",
    ],
)
async def test_bad_handles_are_refused_at_sign_up(anon: httpx.AsyncClient, handle: str) -> None:
    assert_problem(await sign_up(anon, handle=handle), 422, "invalid_handle")
    if handle:
        lookup = await anon.get(f"{API}/accounts/{quote(handle, safe='')}")
        assert_problem(lookup, 404, "account_not_found")


async def test_handles_are_unique_without_regard_to_case(anon: httpx.AsyncClient) -> None:
    alice = unique_handle("Alice")  # "Alice_3fa9c1"
    assert (await sign_up(anon, handle=alice, display_name="First")).status_code == 201
    for other in (alice.lower(), alice.upper(), alice.swapcase()):
        taken = await sign_up(anon, handle=other, password="another password", display_name="X")
        assert_problem(taken, 409, "handle_taken")

    # The first account is untouched: its handle, name and password, found in any case.
    profile = (await anon.get(f"{API}/accounts/{alice.upper()}")).json()
    assert profile["handle"] == alice and profile["display_name"] == "First"
    signing_in = {"handle": alice.lower(), "password": PASSWORD}
    ok = await anon.post(f"{API}/sessions", json=signing_in)
    assert ok.status_code == 201 and ok.json()["account"]["handle"] == alice
    wrong = {"handle": alice.lower(), "password": "another password"}
    assert_problem(await anon.post(f"{API}/sessions", json=wrong), 401, "invalid_credentials")
    # The longest handle is accepted.
    longest = f"b{secrets.token_hex(7)}"
    assert len(longest) == 15
    assert (await sign_up(anon, handle=longest)).status_code == 201


async def test_passwords_and_display_names_are_checked_at_sign_up(
    anon: httpx.AsyncClient,
) -> None:
    newcomer = unique_handle("newcomer")
    for fields, code in [
        ({"password": "short12"}, "invalid_password"),
        ({"password": ""}, "invalid_password"),
        ({"password": "p" * 257}, "invalid_password"),
        ({"display_name": "n" * 51}, "invalid_display_name"),
        ({"display_name": "   "}, "invalid_display_name"),
    ]:
        assert_problem(await sign_up(anon, handle=newcomer, **fields), 422, code)

    # None of those created the account; the limits themselves are fine.
    assert_problem(await anon.get(f"{API}/accounts/{newcomer}"), 404, "account_not_found")
    created = await sign_up(anon, handle=newcomer, password="p" * 8, display_name="n" * 50)
    assert created.status_code == 201, created.text


async def test_profiles_are_checked(host: Person) -> None:
    await host.call("PATCH", "/accounts/me", 200, json={"bio": "Hello there"})
    for body, code in [
        ({"display_name": "n" * 51}, "invalid_display_name"),
        ({"display_name": ""}, "invalid_display_name"),
        ({"bio": "b" * 161}, "invalid_bio"),
        # A good field next to a bad one is not applied.
        ({"bio": "Changed", "display_name": "n" * 51}, "invalid_display_name"),
        ({"display_name": "Changed", "bio": "b" * 161}, "invalid_bio"),
    ]:
        await refused(host.http, "PATCH", "/accounts/me", 422, code, json=body)
    profile = await host.call("GET", f"/accounts/{host.handle}", 200)
    assert profile["display_name"] == "The Host" and profile["bio"] == "Hello there"


async def test_posts_are_checked(host: Person) -> None:
    for text in ("p" * 281, "", "   ", "🔥" * 281):
        await refused(host.http, "POST", "/posts", 422, "invalid_post", json={"text": text})
    assert await host.call("GET", f"/accounts/{host.handle}/posts", 200) == []
    # 280 characters, even four-byte ones, is the limit and fits the column on both databases.
    for text in ("p" * 280, "🔥" * 280):
        assert (await host.call("POST", "/posts", 201, json={"text": text}))["text"] == text
    assert len(await host.call("GET", f"/accounts/{host.handle}/posts", 200)) == 2


# --- the shape of the request ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": ',
        b'{"title": "x",}',
        b"{'title': 'x'}",
        b'{"title": "x"} trailing',
        b"not json at all",
        b'{"title": "\xff\xfe"}',  # not UTF-8
        b"[" * 20_000 + b"]" * 20_000,  # deeper than any parser recursion limit, under 64 KiB
    ],
)
async def test_malformed_json_is_refused(host: Person, body: bytes) -> None:
    headers = {"content-type": "application/json"}
    await refused(
        host.http, "POST", "/spaces", 400, "malformed_json", content=body, headers=headers
    )
    assert await listed_spaces_of(host) == []


async def test_wrong_json_types_are_refused(
    host: Person, anon: httpx.AsyncClient, space: dict[str, Any]
) -> None:
    sid = space["id"]
    for method, path, body in [
        ("POST", "/spaces", {"title": 123}),
        ("POST", "/spaces", {"title": None}),
        ("POST", "/spaces", {"title": ["a"]}),
        ("POST", "/spaces", {}),
        ("POST", "/spaces", []),
        ("POST", "/spaces", "a string"),
        ("POST", "/spaces", None),
        ("POST", "/spaces", {"title": "ok", "topics": "not a list"}),
        ("POST", "/spaces", {"title": "ok", "topics": [1, 2]}),
        ("POST", "/spaces", {"title": "ok", "recording": "maybe"}),
        ("POST", "/spaces", {"title": "ok", "speak_policy": "nobody"}),
        ("POST", "/spaces", {"title": "ok", "scheduled_start": {"at": "noon"}}),
        ("PATCH", f"/spaces/{sid}", {"title": 5}),
        ("PATCH", f"/spaces/{sid}", {"topics": {"a": 1}}),
        ("PATCH", f"/spaces/{sid}", [1, 2, 3]),
        ("POST", f"/spaces/{sid}/reactions", {"emoji": 1}),
        ("POST", f"/spaces/{sid}/reactions", {}),
        ("POST", "/posts", {"text": {"nested": "object"}}),
        ("POST", "/posts", {"text": 1.5}),
        ("PATCH", "/accounts/me", {"bio": True}),
    ]:
        await refused(host.http, method, path, 422, "invalid_request", json=body)
    for body in [{"handle": 1, "password": PASSWORD, "display_name": "x"}, {"handle": "x"}, [1]]:
        assert_problem(await anon.post(f"{API}/accounts", json=body), 422, "invalid_request")
    assert_problem(await anon.post(f"{API}/sessions", json={"handle": []}), 422, "invalid_request")

    assert await listed_spaces_of(host) == [sid]
    after = await host.call("GET", f"/spaces/{sid}", 200)
    assert (after["title"], after["seq"]) == (space["title"], space["seq"])


BAD_TEXT = [
    "\x00",
    "before\x00after",
    "\ud800",  # a lone high surrogate
    "tail\udfff",  # a lone low surrogate
    "\udc00\ud800",  # a pair in the wrong order
]


@pytest.mark.parametrize("bad", BAD_TEXT, ids=["nul", "inner-nul", "high", "low", "reversed"])
async def test_nul_and_lone_surrogates_are_refused(
    host: Person, anon: httpx.AsyncClient, space: dict[str, Any], bad: str
) -> None:
    """PostgreSQL refuses NUL in text and UTF-8 has no surrogates: a 4xx, not the classic 500."""
    sid = space["id"]
    newbie = unique_handle("newbie")
    for method, path, body in [
        ("POST", "/spaces", {"title": bad}),
        ("POST", "/spaces", {"title": "ok", "description": bad}),
        ("POST", "/spaces", {"title": "ok", "topics": [bad]}),
        ("PATCH", f"/spaces/{sid}", {"title": bad}),
        ("PATCH", f"/spaces/{sid}", {"description": bad}),
        ("PATCH", f"/spaces/{sid}", {"topics": ["fine", bad]}),
        ("POST", f"/spaces/{sid}/reactions", {"emoji": bad}),
        ("POST", "/posts", {"text": bad}),
        ("PATCH", "/accounts/me", {"display_name": bad}),
        ("PATCH", "/accounts/me", {"bio": bad}),
    ]:
        await refused(host.http, method, path, 422, "invalid_request", **raw_json(body))
    for fields in [
        {"handle": bad, "password": PASSWORD, "display_name": "x"},
        {"handle": newbie, "password": PASSWORD + bad, "display_name": "x"},
        {"handle": newbie, "password": PASSWORD, "display_name": bad},
    ]:
        response = await anon.post(f"{API}/accounts", **raw_json(fields))
        assert_problem(response, 422, "invalid_request")
    for fields in [{"handle": bad, "password": PASSWORD}, {"handle": host.handle, "password": bad}]:
        response = await anon.post(f"{API}/sessions", **raw_json(fields))
        assert_problem(response, 422, "invalid_request")

    # Nothing changed.
    after = await host.call("GET", f"/spaces/{sid}", 200)
    for key in ("title", "description", "topics", "seq"):
        assert after[key] == space[key], key
    assert await listed_spaces_of(host) == [sid]
    assert await host.call("GET", f"/accounts/{host.handle}/posts", 200) == []
    profile = await host.call("GET", f"/accounts/{host.handle}", 200)
    assert (profile["display_name"], profile["bio"]) == ("The Host", "")
    assert_problem(await anon.get(f"{API}/accounts/{newbie}"), 404, "account_not_found")


async def test_escaped_surrogate_pairs_are_fine(host: Person) -> None:
    """The JSON escape of a character outside the BMP is a surrogate pair: that one is valid."""
    created = await host.http.post("/posts", **raw_json({"text": "on 🔥 today"}))
    assert created.status_code == 201, created.text
    assert created.json()["text"] == "on 🔥 today"
    assert (await host.call("GET", f"/accounts/{host.handle}/posts", 200))[0][
        "text"
    ] == "on 🔥 today"


# --- what does not exist ---------------------------------------------------------------------

ODD_IDS = [
    "0000000000000000",
    "nope",
    "%00",
    "abc%00def",
    "%25",
    "%20",
    "%E2%80%8B",  # zero-width space
    "%F0%9F%94%A5",
    "%ED%A0%80",  # a UTF-8-encoded surrogate: not valid UTF-8
    "%FF",
    "x" * 300,
    "1%27%20OR%20%271%27=%271",
    "%3Cscript%3E",
]


async def test_unknown_spaces_are_not_found(host: Person, space: dict[str, Any]) -> None:
    for odd in ODD_IDS:
        for method, suffix, kw in [
            ("GET", "", {}),
            ("PATCH", "", {"json": {"title": "Hijacked"}}),
            ("POST", "/join", {}),
            ("POST", "/start", {}),
            ("POST", "/end", {}),
            ("POST", "/reminders", {}),
            ("DELETE", "/reminders", {}),
            ("POST", "/hand", {}),
            ("POST", "/reactions", {"json": {"emoji": "🔥"}}),
            ("POST", f"/speakers/{host.handle}", {}),
            ("POST", f"/mute/{host.handle}", {}),
        ]:
            await refused(host.http, method, f"/spaces/{odd}{suffix}", 404, "space_not_found", **kw)
    after = await host.call("GET", f"/spaces/{space['id']}", 200)
    assert (after["title"], after["seq"], after["state"]) == (space["title"], space["seq"], "live")


async def test_unknown_handles_are_not_found(
    host: Person, anon: httpx.AsyncClient, space: dict[str, Any]
) -> None:
    sid = space["id"]
    for odd in [*ODD_IDS[1:], "ghost", "a" * 16]:
        await refused(anon, "GET", f"{API}/accounts/{odd}", 404, "account_not_found")
        await refused(anon, "GET", f"{API}/accounts/{odd}/posts", 404, "account_not_found")
        for method, path in [
            ("POST", f"/accounts/{odd}/follow"),
            ("DELETE", f"/accounts/{odd}/follow"),
            ("POST", f"/accounts/{odd}/block"),
            ("POST", f"/spaces/{sid}/speakers/{odd}"),
            ("DELETE", f"/spaces/{sid}/speakers/{odd}"),
            ("POST", f"/spaces/{sid}/cohosts/{odd}"),
            ("POST", f"/spaces/{sid}/mute/{odd}"),
            ("POST", f"/spaces/{sid}/remove/{odd}"),
        ]:
            await refused(host.http, method, path, 404, "account_not_found")
    profile = await host.call("GET", f"/accounts/{host.handle}", 200)
    assert (profile["followers"], profile["following"]) == (0, 0)
    assert (await host.call("GET", f"/spaces/{sid}", 200))["seq"] == space["seq"]


# --- authentication --------------------------------------------------------------------------


async def test_a_bearer_token_is_needed(
    server: ServerThread, host: Person, anon: httpx.AsyncClient
) -> None:
    body = {"title": "Sneaky"}
    cases: list[tuple[Any, str]] = [
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer"}, "unauthenticated"),
        ({"Authorization": "Basic aG9zdDpjb3JyZWN0IGhvcnNl"}, "unauthenticated"),
        ({"Authorization": host.token}, "unauthenticated"),  # no scheme
        ({"Authorization": "Bearer not-a-token"}, "invalid_token"),
        ({"Authorization": f"Bearer {host.token}x"}, "invalid_token"),
        ({"Authorization": b"Bearer \xe9\xff"}, "invalid_token"),  # not even ASCII
    ]
    for headers, code in cases:
        r = await anon.post(f"{API}/spaces", json=body, headers=headers)
        assert_problem(r, 401, code)
        assert r.headers["www-authenticate"] == "Bearer"
        assert_problem(await anon.get(f"{API}/me", headers=headers), 401, code)

    # A token stops working when its session ends.
    other = await Person.sign_up(server.base_url, unique_handle("leaver"))
    await other.call("DELETE", "/sessions/current", 204)
    await refused(other.http, "GET", "/me", 401, "invalid_token")
    await refused(other.http, "POST", "/spaces", 401, "invalid_token", json=body)
    await other.close()

    assert await listed_spaces_of(host) == []
    assert (await host.call("GET", "/me", 200))["handle"] == host.handle


# --- reactions, limits, cursors --------------------------------------------------------------


async def test_reactions_are_checked(
    server: ServerThread, host: Person, space: dict[str, Any]
) -> None:
    fan = await Person.sign_up(server.base_url, unique_handle("fan"))
    sid = space["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    seq = (await fan.call("GET", f"/spaces/{sid}", 200))["seq"]
    path = f"/spaces/{sid}/reactions"
    for emoji in ("", " ", "🦄", "🔥🔥", "fire", ":fire:", "🔥 ", "x" * 10_000):
        await refused(fan.http, "POST", path, 422, "invalid_reaction", json={"emoji": emoji})
    assert (await fan.call("GET", f"/spaces/{sid}", 200))["seq"] == seq  # no event was emitted
    await fan.call("POST", path, 204, json={"emoji": "🔥"})
    assert (await fan.call("GET", f"/spaces/{sid}", 200))["seq"] == seq + 1
    await fan.close()


async def test_limits_and_query_parameters_are_checked(
    host: Person, anon: httpx.AsyncClient, space: dict[str, Any]
) -> None:
    sid = space["id"]
    for path in [
        "/spaces?limit=0",
        "/spaces?limit=-1",
        "/spaces?limit=201",
        "/spaces?limit=abc",
        "/spaces?limit=1.5",
        "/spaces?limit=99999999999999999999999999",
        "/spaces?limit=%00",
        "/spaces?state=bogus",
        "/spaces?state=",
        "/spaces?state=%00",
        "/timeline?limit=0",
        "/timeline?limit=201",
        "/timeline?before=yesterday",
        "/timeline?before=%00",
        f"/accounts/{host.handle}/posts?limit=0",
        f"/accounts/{host.handle}/posts?limit=1000",
        "/me/notifications?limit=0",
        "/me/notifications?limit=201",
        f"/spaces/{sid}/listeners?limit=0",
        f"/spaces/{sid}/listeners?limit=501",
    ]:
        await refused(host.http, "GET", path, 422, "invalid_request")
    # A `before` cursor without a time zone, or beyond what a date can hold once in UTC.
    for before in (
        "2020-01-01T00:00:00",
        "0001-01-01T00:00:00%2B01:00",
        "9999-12-31T23:59:59-01:00",
    ):
        await refused(host.http, "GET", f"/timeline?before={before}", 422, "invalid_before")
        await refused(
            anon,
            "GET",
            f"{API}/accounts/{host.handle}/posts?before={before}",
            422,
            "invalid_before",
        )
    # The edges of the ranges are fine. (Other tests' spaces share the server: the host's space
    # is one of those listed, and a page of one holds one.)
    assert sid in [s["id"] for s in await host.call("GET", "/spaces?limit=200", 200)]
    assert len(await host.call("GET", "/spaces?limit=1", 200)) == 1
    assert await host.call("GET", "/timeline?limit=200&before=2020-01-01T00:00:00Z", 200) == []
    assert await host.call("GET", f"/spaces/{sid}/listeners?limit=500", 200) == []


# --- routes and methods ----------------------------------------------------------------------


async def test_unknown_routes_and_wrong_methods(anon: httpx.AsyncClient, host: Person) -> None:
    for path in (f"{API}/nope", f"{API}/spaces/x/nope", "/api/v2/spaces", f"{API}/admin/nope"):
        await refused(anon, "GET", path, 404, "not_found")
    for method, path in [
        ("DELETE", f"{API}/spaces"),
        ("PUT", f"{API}/spaces/abc"),
        ("PUT", f"{API}/accounts/me"),
        ("DELETE", f"{API}/me"),
        ("PATCH", f"{API}/posts"),
    ]:
        await refused(anon, method, path, 405, "method_not_allowed")
    # The refusals come before authentication: with a token the answer is the same.
    await refused(host.http, "DELETE", "/spaces", 405, "method_not_allowed")
    await refused(host.http, "GET", "/nope", 404, "not_found")
    assert await listed_spaces_of(host) == []


async def test_get_on_a_post_only_route_is_method_not_allowed(anon: httpx.AsyncClient) -> None:
    await refused(anon, "GET", f"{API}/posts", 405, "method_not_allowed")
