"""Link rules through the API, on SQLite and PostgreSQL: content with a blocked link is refused
(posts, names, bios, space titles and descriptions), checks hold against bypass forms, the
redirector checks again at click time, shortener chains are followed with every hop checked, and
no chain can make the server contact a private address."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli_env, parley_here
from tests.support.clients import Person, http_client
from tests.support.moderation import admin
from tests.support.redirects import Route, WebHost, links_of, resolve_to
from tests.support.servers import (
    ServerThread,
    serve,
    sqlite_url,
    two_nodes,
)

RULE = {"rule": "malware", "reason": "Serves malware to visitors"}
CHAIN_HOSTS = {"short.test": "127.0.0.1", "mid.test": "127.0.0.1", "evil.example": "127.0.0.1"}


@contextmanager
def chain_server(database_url: str, *, link_timeout_seconds: float) -> Iterator[ServerThread]:
    with serve(
        database_url=database_url,
        link_shorteners=["short.test"],
        link_allow_private=True,
        link_timeout_seconds=link_timeout_seconds,
        # These tests are about rules: no warning for links from new accounts (every account
        # here is new); tests/security/test_links_everywhere.py covers that warning.
        link_new_account_days=0,
    ) as running:
        resolve_to(running, CHAIN_HOSTS)
        yield running


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    # A second for a chain: its chains are a hop or three, and a test that runs into the
    # limit waits it out.
    with chain_server(database_url, link_timeout_seconds=1.0) as running:
        yield running


async def add_rule(mod: Person, match: str, pattern: str, verdict: str, **extra: Any) -> Any:
    body = {"match": match, "pattern": pattern, "verdict": verdict, **RULE, **extra}
    return await mod.call("POST", "/admin/link-rules", 201, json=body)


async def check(person: Person, url: str) -> dict[str, Any]:
    result: dict[str, Any] = await person.call("GET", "/links/check", 200, params={"url": url})
    return result


async def blocked(person: Person, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await person.http.request(method, path, json=body)
    assert r.status_code == 422, f"{method} {path}: {r.status_code} {r.text}"
    problem: dict[str, Any] = r.json()
    assert problem["code"] == "link_blocked", r.text
    return problem


# --- rules -----------------------------------------------------------------------------------


async def test_moderators_add_list_and_remove_rules_and_each_change_is_audited(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user")
    added = await add_rule(mod, "host", "Evil.Example.", "block")
    assert {k: added[k] for k in ("match", "pattern", "verdict", "rule", "reason")} == {
        "match": "host",
        "pattern": "Evil.Example.",
        "verdict": "block",
        **RULE,
    }
    assert added["created_by"] == mod.id
    listed = await mod.call("GET", "/admin/link-rules", 200)
    assert [r["id"] for r in listed] == [added["id"]]

    body = {"match": "host", "pattern": "x.example", "verdict": "block", **RULE}
    await user.refused("POST", "/admin/link-rules", 403, "moderators_only", json=body)
    await user.refused("GET", "/admin/link-rules", 403, "moderators_only")
    await user.refused("DELETE", f"/admin/link-rules/{added['id']}", 403, "moderators_only")
    for pattern in ("http://x.example/path", "javascript:alert(1)", "", "http://"):
        await mod.refused(
            "POST", "/admin/link-rules", 422, "invalid_pattern", json={**body, "pattern": pattern}
        )
    await mod.refused(
        "POST",
        "/admin/link-rules",
        422,
        "invalid_pattern",
        json={**body, "match": "prefix", "pattern": "x.example/a?b"},
    )
    await mod.refused(
        "POST", "/admin/link-rules", 422, "invalid_request", json={**body, "verdict": "allow"}
    )
    await mod.refused("POST", "/admin/link-rules", 422, "invalid_rule", json={**body, "rule": "?"})
    await mod.refused(
        "POST", "/admin/link-rules", 422, "invalid_reason", json={**body, "reason": " "}
    )

    await mod.call("DELETE", f"/admin/link-rules/{added['id']}", 204)
    await mod.refused("DELETE", f"/admin/link-rules/{added['id']}", 404, "link_rule_not_found")
    assert await mod.call("GET", "/admin/link-rules", 200) == []
    assert (await check(user, "http://evil.example/"))["verdict"] == "allow"

    audit = await mod.call("GET", "/admin/audit", 200, params={"target_type": "link_rule"})
    assert [(e["action"], e["target_id"], e["actor_id"]) for e in audit] == [
        ("link_rule_remove", added["id"], mod.id),
        ("link_rule_add", added["id"], mod.id),
    ]
    assert audit[1]["after"]["pattern"] == "Evil.Example." and audit[1]["rule"] == "malware"
    for person in (mod, user):
        await person.close()


# --- content ---------------------------------------------------------------------------------


async def test_content_with_a_blocked_link_is_refused_naming_the_rule_and_nothing_is_stored(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user", "User")
    rule = await add_rule(mod, "host", "evil.example.com", "block")
    await add_rule(mod, "host", "iffy.example.com", "warn", rule="spam", reason="Mostly spam")
    bad = "see ＥＶＩＬ．example．com/free (really)"

    problem = await blocked(user, "POST", "/posts", {"text": bad})
    assert problem["rule"] == "malware" and problem["rule_id"] == rule["id"]
    assert problem["url"] == "ＥＶＩＬ．example．com/free" and "malware" in problem["title"]
    assert await user.call("GET", "/accounts/user/posts", 200) == []
    # The label of the place a post carries is read with it.
    seen = datetime.now(UTC).isoformat()
    where = {"latitude": 1.0, "longitude": 2.0, "observed_at": seen, "label": "evil.example.com"}
    await blocked(user, "POST", "/posts", {"text": "Here", "place": where})
    assert await user.call("GET", "/accounts/user/posts", 200) == []

    await blocked(user, "PATCH", "/accounts/me", {"bio": "my site: https://www.evil.example.com"})
    await blocked(user, "PATCH", "/accounts/me", {"display_name": "evil.example.com fan"})
    await blocked(user, "PATCH", "/accounts/me", {"display_name": "ok", "bio": "EVIL.example.com"})
    me = await user.call("GET", "/me", 200)
    assert (me["display_name"], me["bio"]) == ("User", "")

    await blocked(user, "POST", "/spaces", {"title": "Come to evil.example.com"})
    await blocked(
        user, "POST", "/spaces", {"title": "Fine", "description": "http://evil.example.com"}
    )
    assert await user.call("GET", "/spaces", 200, params={"state": "live"}) == []
    space = await user.call("POST", "/spaces", 201, json={"title": "Fine"})
    await blocked(user, "PATCH", f"/spaces/{space['id']}", {"title": "evil.example.com/x"})
    await blocked(user, "PATCH", f"/spaces/{space['id']}", {"description": "a.evil.example.com"})
    again = await user.call("GET", f"/spaces/{space['id']}", 200)
    assert (again["title"], again.get("description", "")) == ("Fine", "")

    # Warned links are allowed (the redirector shows the warning), and so is everything else.
    await user.call("POST", "/posts", 201, json={"text": "look: iffy.example.com and good.example"})
    await user.call("PATCH", "/accounts/me", 200, json={"bio": "iffy.example.com"})
    await user.call("PATCH", f"/spaces/{space['id']}", 200, json={"title": "iffy.example.com talk"})
    # An email is not a link; a bare name without a public suffix is not one either.
    await user.call("POST", "/posts", 201, json={"text": "mail me@evil.example.com"})
    await user.call("POST", "/posts", 201, json={"text": "evil.example.com.notasuffix"})
    for person in (mod, user):
        await person.close()


# --- checks ----------------------------------------------------------------------------------


async def test_checks_hold_against_bypass_forms(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    host = await add_rule(mod, "host", "evil.example", "block")
    prefix = await add_rule(mod, "prefix", "good.example/name", "warn")
    exact = await add_rule(mod, "url", "https://good.example/page?id=7", "block")
    ip = await add_rule(mod, "host", "1.2.3.4", "block")
    idn = await add_rule(mod, "host", "bücher.example", "warn")

    expected = {
        host["id"]: [
            "http://evil.example/",
            "EVIL.EXAMPLE",
            "evil.example.",
            "http://evil.example.:8080/x",
            "https://sub.deep.evil.example/a?b#c",
            "http://%65vil.example/",
            "http://%2565vil.example/",
            "http://good.example@evil.example/",
            "http://user:pass@EVIL.example:443/",
            "ｅｖｉｌ.example",
            "http://evil。example/",
            "http:\\\\evil.example\\",
            "http:///evil.example/",
            " http://evil.example/\n",
            "http://evil.example#fragment",
        ],
        prefix["id"]: [
            "http://good.example/name",
            "http://good.example/name/",
            "http://good.example/name/sub/page?x=1",
            "http://good.example/other/../name/x",
            "http://good.example/./name",
            "http://good.example//name",
            "http://good.example/%6Eame",
            "http://www.good.example/name",
        ],
        exact["id"]: [
            "https://good.example/page?id=7",
            "http://GOOD.example/page?id=7#top",
            "http://good.example:80/page?id=7",
        ],
        ip["id"]: [
            "http://1.2.3.4/",
            "http://0x01020304/",
            "http://16909060/",
            "http://0x1.0x2.0x3.0x4/",
            "http://01.02.03.04/",
        ],
        idn["id"]: ["http://BÜCHER.example/", "http://xn--bcher-kva.example/"],
    }
    for rule_id, urls in expected.items():
        for url in urls:
            result = await check(mod, url)
            assert result["rule_id"] == rule_id, (url, result)
            assert result["verdict"] == (
                "warn" if rule_id in (prefix["id"], idn["id"]) else "block"
            )
    for url in (
        "http://good.example/namesake",
        "http://good.example/page?id=8",
        "http://good.example/page",
        "http://notevil.example/",
        "http://evil.example.com/",
        "http://1.2.3.5/",
    ):
        assert (await check(mod, url))["verdict"] == "allow", url
    result = await check(mod, "HTTP://Evil.Example:80/a/./b/../c")
    assert result["canonical_url"] == "http://evil.example/a/c"
    assert (result["rule"], result["reason"], result["hops"]) == ("malware", RULE["reason"], [])

    for url in ("javascript:alert(1)", "ftp://evil.example/", "mailto:a@evil.example", "http://"):
        r = await mod.http.get("/links/check", params={"url": url})
        assert r.status_code == 422 and r.json()["code"] == "invalid_url", (url, r.text)
    await mod.refused("GET", "/links/check", 422, "invalid_request")
    # Public: no account needed.
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.get("/links/check", params={"url": "evil.example"})
        assert r.status_code == 200 and r.json()["verdict"] == "block"
    await mod.close()


# --- the redirector --------------------------------------------------------------------------


async def test_the_redirector_checks_again_at_click_time(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user")
    url = "later.example/a b?q=ü#top"
    # Posted while allowed...
    await user.call("POST", "/posts", 201, json={"text": f"read {url}"})
    link = await user.call("POST", "/links", 201, json={"url": url})
    assert link["url"] == url and link["href"] == f"/l/{link['id']}"

    async with http_client(base_url=server.base_url, headers={"Accept": "text/html"}) as web:
        r = await web.get(link["href"])
        assert r.status_code == 302, r.text
        assert r.headers["location"] == "http://later.example/a%20b?q=%C3%BC#top"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"

        # ...warned about later: an interstitial naming the rule, to click through or not.
        warn = await add_rule(
            mod, "host", "later.example", "warn", rule="scam", reason="<Fake> shop"
        )
        r = await web.get(link["href"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        page = r.text
        assert "This link may be unsafe" in page and "scam" in page
        assert "&lt;Fake&gt; shop" in page and "<Fake>" not in page
        assert 'href="http://later.example/a%20b?q=%C3%BC#top"' in page and ">Continue</a>" in page
        assert 'href="/">Back to Parley</a>' in page and "<script" not in page

        # ...and blocked later still: a refusal page naming the rule.
        await mod.call("DELETE", f"/admin/link-rules/{warn['id']}", 204)
        await add_rule(mod, "prefix", "later.example/a b", "block")
        r = await web.get(link["href"])
        assert r.status_code == 403 and "This link is blocked" in r.text and "malware" in r.text
        assert "Continue" not in r.text

        assert (await web.get("/l/nope")).status_code == 404
    # API clients get problem documents instead of pages.
    async with http_client(base_url=server.base_url) as api:
        r = await api.get(link["href"])
        assert r.status_code == 403 and r.json()["code"] == "link_blocked"
        assert r.json()["rule"] == "malware"
        r = await api.get("/l/nope")
        assert r.status_code == 404 and r.json()["code"] == "link_not_found"

    for bad in ("javascript:alert(1)", "ftp://x.example/", "http://", "x" * 5000):
        await user.refused("POST", "/links", 422, "invalid_url", json={"url": bad})
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        r = await anonymous.post("/links", json={"url": "http://a.example/"})
        assert r.status_code == 401
    for person in (mod, user):
        await person.close()


async def test_the_redirector_sends_browsers_where_the_check_looked(server: ServerThread) -> None:
    """Backslashes and userinfo read one way by a checker and another by a browser: the
    redirect goes to the host that was checked, in a form no one reads differently."""
    mod = await admin(server, "mod")
    await add_rule(mod, "host", "evil.example", "block")
    async with http_client(base_url=server.base_url) as web:
        for posted, location in (
            ("http:\\\\good.example\\@evil.example/", "http://good.example/@evil.example/"),
            ("http://evil.example\\@good.example/", None),  # evil.example: blocked
            ("http://user:pw@good.example:8080/x", "http://good.example:8080/x"),
            ("https://ｇｏｏｄ.example/%2F", "https://good.example/%2F"),
        ):
            link = await mod.call("POST", "/links", 201, json={"url": posted})
            r = await web.get(link["href"])
            if location is None:
                assert r.status_code == 403, posted
            else:
                assert (r.status_code, r.headers["location"]) == (302, location), posted
    await mod.close()


# --- shortener chains ------------------------------------------------------------------------


def chain(web: WebHost) -> None:
    web.routes.update(
        {
            "short.test/abc": Route(301, "http://mid.test:{port}/hop"),
            "mid.test/hop": Route(302, "http://evil.example:{port}/x"),
            "short.test/get-only": Route(302, "http://evil.example:{port}/x", only_get=True),
            "short.test/rel": Route(307, "/abc"),
        }
    )


async def test_every_hop_of_a_shortener_chain_is_checked(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user")
    async with WebHost() as web:
        chain(web)
        start = web.url("short.test", "/abc")
        result = await check(user, start)
        assert result["verdict"] == "allow", result
        assert [h["url"] for h in result["hops"]] == [
            web.url("mid.test", "/hop"),
            web.url("evil.example", "/x"),
        ]
        assert web.hits_on("evil.example") == 1  # the end of the chain answered 200

        rule = await add_rule(mod, "prefix", "evil.example/x", "block")
        warn = await add_rule(mod, "host", "mid.test", "warn", rule="spam", reason="Spam relay")
        web.hits.clear()
        result = await check(user, start)
        assert (result["verdict"], result["rule_id"]) == ("block", rule["id"])
        assert [h["verdict"] for h in result["hops"]] == ["warn", "block"]
        assert result["hops"][0]["rule_id"] == warn["id"]
        # A blocked hop is not contacted: nothing after it could change the verdict.
        assert web.hits_on("evil.example") == 0

        # A relative redirect, and a shortener that only redirects GET (HEAD answers 405).
        for path in ("/rel", "/get-only"):
            result = await check(user, web.url("short.test", path))
            assert (result["verdict"], result["rule"]) == ("block", "malware"), (path, result)
        assert ("GET", "short.test/get-only") in web.hits

        # Content with the short link is refused, naming the rule met at the end of the chain.
        problem = await blocked(user, "POST", "/posts", {"text": f"free stuff {start} !"})
        assert (problem["rule_id"], problem["url"]) == (rule["id"], start)
        # A link posted before the rule is blocked at click time, through the chain.
        await mod.call("DELETE", f"/admin/link-rules/{rule['id']}", 204)
        link = await user.call("POST", "/links", 201, json={"url": start})
        async with http_client(base_url=server.base_url) as browser:
            assert (await browser.get(link["href"])).status_code == 200  # warn: mid.test
            await add_rule(mod, "host", "evil.example", "block")
            assert (await browser.get(link["href"])).status_code == 403
    for person in (mod, user):
        await person.close()


async def test_chains_that_cannot_be_followed_warn(database_url: str) -> None:
    # The product's three seconds: six hops in the module's one second failed on a loaded host.
    timeout = 3.0
    with chain_server(database_url, link_timeout_seconds=timeout) as server:
        user = await Person.sign_up(server.base_url, "user")
        async with WebHost() as web:
            max_hops = server.settings.link_max_hops
            for n in range(max_hops + 1):  # /0 → /1 → ... → /max_hops+1, which answers 200
                web.routes[f"short.test/{n}"] = Route(302, f"/{n + 1}")
            web.routes["short.test/slow"] = Route(302, "/0", delay=timeout + 1)
            web.routes["short.test/nowhere"] = Route(302, "")

            # Exactly the limit is fine; one more is a warning, never a pass.
            ok = await check(user, web.url("short.test", f"/{1}"))
            assert ok["verdict"] == "allow" and len(ok["hops"]) == max_hops, ok
            too_many = await check(user, web.url("short.test", "/0"))
            assert (too_many["verdict"], too_many["reason"]) == ("warn", "too_many_hops")
            assert len(too_many["hops"]) == max_hops

            began = time.monotonic()
            slow = await check(user, web.url("short.test", "/slow"))
            # A timeout is "unreachable", like every other network failure (issue 8, finding 3).
            assert (slow["verdict"], slow["reason"]) == ("warn", "unreachable")
            assert time.monotonic() - began < timeout + 1

            nowhere = await check(user, web.url("short.test", "/nowhere"))
            assert nowhere["reason"] == "bad_redirect"
            unknown = await check(user, "http://short.test.invalid.short.test/x")
            assert (unknown["verdict"], unknown["reason"]) == ("warn", "unreachable")
            # Posting a link that cannot be checked is allowed (warned at click time).
            await user.call("POST", "/posts", 201, json={"text": web.url("short.test", "/0")})
        await user.close()


async def test_a_chain_cannot_reach_private_addresses(database_url: str) -> None:
    """SSRF: with private addresses not allowed (production), a shortener redirecting to the
    server's own network is not followed there: no request reaches it."""
    # A name that leads inside is reported unreachable only once the chain's time is up (an
    # answer as slow as a real unreachable host's); the module's one second, not the default 3.
    settings = {"link_shorteners": ["short.test", "inside.test"], "link_timeout_seconds": 1.0}
    with serve(database_url=database_url, **settings) as server:
        user = await Person.sign_up(server.base_url, "user")
        follower = links_of(server).follower
        real_policy = follower.default_address_policy
        # The shortener itself runs on a loopback address this test alone allows.
        follower.address_allowed = lambda ip: str(ip) == "127.0.0.2" or real_policy(ip)
        async with WebHost("127.0.0.1") as victim, WebHost("127.0.0.2") as short:
            resolve_to(
                server,
                {"short.test": "127.0.0.2", "inside.test": "127.0.0.1", "db.test": "10.0.0.7"},
            )
            p = victim.port
            targets = {
                "loopback": f"http://127.0.0.1:{p}/",
                "metadata": "http://169.254.169.254/latest/meta-data/",
                "ipv6": f"http://[::1]:{p}/",
                "mapped": f"http://[::ffff:127.0.0.1]:{p}/",
                "private": "http://10.0.0.1/",
                "decimal": f"http://2130706433:{p}/",
                "hex": f"http://0x7f.1:{p}/",
                "zero": f"http://0.0.0.0:{p}/",
                "name": f"http://inside.test:{p}/",
                "private-name": "http://db.test/",
                "https": f"https://127.0.0.1:{p}/",
            }
            for name, target in targets.items():
                short.routes[f"short.test/{name}"] = Route(302, target)
            for name in targets:
                result = await check(user, short.url("short.test", f"/{name}"))
                # An address in the URL is refused for what it says; a name that resolves
                # inside is "unreachable", so no caller learns which internal names exist.
                expected = "unreachable" if name.endswith("name") else "unsafe_address"
                assert (result["verdict"], result["reason"]) == ("warn", expected), (
                    name,
                    result,
                )
            # A shortener whose own name leads inside is not contacted either.
            result = await check(user, victim.url("inside.test", "/x"))
            assert result["reason"] == "unreachable" and result["hops"] == []

            for scheme_target in (
                "ftp://evil.example/",
                "javascript:alert(1)",
                "file:///etc/passwd",
            ):
                short.routes["short.test/scheme"] = Route(302, scheme_target)
                result = await check(user, short.url("short.test", "/scheme"))
                assert (result["verdict"], result["reason"]) == ("warn", "unsupported_scheme")
            assert victim.hits == []
            assert len(short.hits) >= len(targets)
        await user.close()


# --- every node ------------------------------------------------------------------------------


async def test_a_rule_added_without_the_bus_takes_effect_within_a_sweep(tmp_path: Path) -> None:
    """The CLI has no bus to a lone node: the node's sweep replays the change from the audit
    log, and a removal likewise."""
    with serve(database_url=sqlite_url(tmp_path)) as server:
        user = await Person.sign_up(server.base_url, "user")
        env = cli_env(tmp_path, PARLEY_DATABASE_URL=sqlite_url(tmp_path))
        args = ("--match", "host", "--pattern", "cli.example", "--verdict", "block")
        made = await parley_here(
            "admin",
            "link-rule",
            "add",
            *args,
            "--rule",
            "spam",
            "--reason",
            "Spam",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        rule_id = made.stdout.split()[3].rstrip(":")
        await _eventually(user, "http://cli.example/", "block")
        listed = await parley_here("admin", "link-rule", "list", env=env)
        assert rule_id in listed.stdout
        gone = await parley_here("admin", "link-rule", "rm", rule_id, env=env)
        assert gone.returncode == 0, gone.stderr
        await _eventually(user, "http://cli.example/", "allow")
        await user.close()


async def _eventually(person: Person, url: str, verdict: str, timeout: float = 5.0) -> float:
    began = time.monotonic()
    while (await check(person, url))["verdict"] != verdict:
        assert time.monotonic() - began < timeout, f"{url} never became {verdict}"
        await asyncio.sleep(0.02)
    return time.monotonic() - began


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_rule_made_on_one_node_applies_on_the_other_at_once() -> None:
    # A slow sweep: what arrives within it came through the bus.
    async with two_nodes(sweep_interval_seconds=30.0) as (a, b):
        mod = await admin(a, "mod")
        user = await Person.sign_up(b.base_url, "user")
        rule = await add_rule(mod, "host", "both.example", "block")
        took = await _eventually(user, "http://both.example/", "block", timeout=1.0)
        assert took < 1.0
        await blocked(user, "POST", "/posts", {"text": "https://both.example/"})
        await mod.call("DELETE", f"/admin/link-rules/{rule['id']}", 204)
        await _eventually(user, "http://both.example/", "allow", timeout=1.0)
        for person in (mod, user):
            await person.close()
