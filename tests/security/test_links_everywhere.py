"""Issue 8, findings 5, 6, 7 (the redirector) and 3 (link checks): link rules protect every
reader, odd schemes neither slip past the rules nor become links, look-alike hosts and new
accounts' links warn, and anonymous link checks are neither a port scanner nor a way into the
server's network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.services.common import new_id, utcnow
from parley.store.posts import PostStore
from tests.support.clients import Person, http_client
from tests.support.moderation import admin
from tests.support.redirects import Route, WebHost, links_of, resolve_to
from tests.support.servers import ServerThread, free_port, serve, sqlite_url

RULE = {"rule": "malware", "reason": "Serves malware to visitors"}


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, link_new_account_days=0) as running:
        yield running


def anonymous(server: ServerThread, html: bool = False) -> httpx.AsyncClient:
    headers = {"Accept": "text/html"} if html else {}
    return http_client(base_url=server.base_url, headers=headers)


async def block(mod: Person, pattern: str, verdict: str = "block") -> dict[str, Any]:
    body = {"match": "host", "pattern": pattern, "verdict": verdict, **RULE}
    rule: dict[str, Any] = await mod.call("POST", "/admin/link-rules", 201, json=body)
    return rule


def links_in(parts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(p["text"], p["href"]) for p in parts if p["href"] is not None]


def joined(parts: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for p in parts)


# --- finding 5: every reader gets links through the redirector --------------------------------


async def test_signed_out_readers_get_redirector_links_and_a_later_block_refuses_them(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    user = await Person.sign_up(server.base_url, "user")
    bio = "My shop: later.example.com/shop 🎉 and ftp://later.example.com/f"
    post = "Read 🧵 https://later.example.com/a?b=1, then www.fine.example."
    title = "Talk about later.example.com/talk"
    await user.call("PATCH", "/accounts/me", 200, json={"bio": bio})
    await user.call("POST", "/posts", 201, json={"text": post})
    space = await user.call("POST", "/spaces", 201, json={"title": title})

    async with anonymous(server) as api:
        profile = (await api.get("/api/v1/accounts/user")).json()
        posts = (await api.get("/api/v1/accounts/user/posts")).json()
        shown = (await api.get(f"/api/v1/spaces/{space['id']}")).json()
        listed = (await api.get("/api/v1/spaces", params={"state": "live"})).json()
    # The parts give back the text exactly (an emoji before a link shifts nothing) ...
    assert joined(profile["bio_parts"]) == bio
    assert joined(posts[0]["text_parts"]) == post
    assert joined(shown["title_parts"]) == title
    # ... and only web links are links, each through the redirector.
    bio_links = links_in(profile["bio_parts"])
    post_links = links_in(posts[0]["text_parts"])
    title_links = links_in(shown["title_parts"])
    assert [t for t, _ in bio_links] == ["later.example.com/shop"]
    assert [t for t, _ in post_links] == ["https://later.example.com/a?b=1", "www.fine.example"]
    assert [t for t, _ in title_links] == ["later.example.com/talk"]
    assert links_in(listed[0]["title_parts"]) == title_links
    hrefs = [h for _, h in bio_links + post_links + title_links]
    assert all(h.startswith("/l/") for h in hrefs)

    # The same text gives the same links to every reader, signed in or not.
    mine = await user.call("GET", "/accounts/user/posts", 200)
    assert mine[0]["text_parts"] == posts[0]["text_parts"]

    async with anonymous(server, html=True) as browser:
        assert (await browser.get(post_links[0][1])).status_code == 302
        await block(mod, "later.example.com")
        for href in (bio_links[0][1], post_links[0][1], title_links[0][1]):
            page = await browser.get(href)
            assert page.status_code == 403 and "This link is blocked" in page.text, href
        assert (await browser.get(post_links[1][1])).status_code == 302
    for person in (mod, user):
        await person.close()


async def _store_post_directly(server: ServerThread, author_id: str, text: str) -> None:
    async with server.node.db.write() as conn:
        await PostStore(conn).create(id=new_id(), author_id=author_id, text=text, now=utcnow())


async def test_content_stored_before_links_were_minted_gets_them_when_read(
    server: ServerThread,
) -> None:
    user = await Person.sign_up(server.base_url, "user")
    server.call(_store_post_directly(server, user.id, "old post: old.example.com/x"))
    async with anonymous(server, html=True) as browser:
        posts = (await browser.get("/api/v1/accounts/user/posts")).json()
        ((text, href),) = links_in(posts[0]["text_parts"])
        assert text == "old.example.com/x"
        r = await browser.get(href)
        assert (r.status_code, r.headers["location"]) == (302, "http://old.example.com/x")
        again = (await browser.get("/api/v1/accounts/user/posts")).json()
        assert again[0]["text_parts"] == posts[0]["text_parts"]
    await user.close()


@pytest.mark.parametrize(
    "text",
    [
        "see //evil.example/x",
        "ftp://evil.example/file",
        "wss://evil.example/socket",
        "\\\\evil.example\\x",
        "ＦＴＰ：／／evil.example/x",
    ],
)
async def test_scheme_relative_and_other_schemes_to_a_blocked_host_are_refused(
    server: ServerThread, text: str
) -> None:
    mod = await admin(server, "mod")
    await block(mod, "evil.example")
    r = await mod.http.post("/posts", json={"text": text})
    assert r.status_code == 422 and r.json()["code"] == "link_blocked", r.text
    r = await mod.http.patch("/accounts/me", json={"bio": text})
    assert r.status_code == 422 and r.json()["code"] == "link_blocked", r.text
    r = await mod.http.post("/spaces", json={"title": text})
    assert r.status_code == 422 and r.json()["code"] == "link_blocked", r.text
    await mod.close()


async def test_a_display_name_with_a_blocked_link_is_refused_at_sign_up_too(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    await block(mod, "evil.example.com")
    async with anonymous(server) as api:
        body = {"handle": "eve", "password": "a long password", "display_name": "evil.example.com"}
        r = await api.post("/api/v1/accounts", json=body)
        assert r.status_code == 422 and r.json()["code"] == "link_blocked", r.text
    await mod.close()


async def test_odd_schemes_are_never_links(server: ServerThread) -> None:
    user = await Person.sign_up(server.base_url, "user")
    text = "ftp://fine.example/f //fine.example/g wss://fine.example/h javascript:alert(1) ok"
    made = await user.call("POST", "/posts", 201, json={"text": text})
    assert links_in(made["text_parts"]) == [] and joined(made["text_parts"]) == text
    await user.close()


# --- finding 7: the redirector warns about look-alike hosts and new accounts' links ----------


async def test_punycode_and_mixed_script_hosts_get_the_interstitial_saying_why(
    server: ServerThread,
) -> None:
    user = await Person.sign_up(server.base_url, "user")
    text = "http://аpple.com/login http://bücher.example/x xn--bcher-kva.com plain.example.com/y"
    made = await user.call("POST", "/posts", 201, json={"text": text})
    hrefs = [h for _, h in links_in(made["text_parts"])]
    assert len(hrefs) == 4
    async with anonymous(server, html=True) as browser:
        pages = [await browser.get(h) for h in hrefs]
    assert [p.status_code for p in pages] == [200, 200, 200, 302]
    assert "This link may be unsafe" in pages[0].text and "different alphabets" in pages[0].text
    assert "xn--pple-43d.com" in pages[0].text
    for page in pages[1:3]:
        assert "international letters" in page.text
    await user.close()


async def test_links_from_young_accounts_get_the_interstitial_until_the_account_ages(
    database_url: str,
) -> None:
    with serve(database_url=database_url, link_new_account_days=3) as server:
        user = await Person.sign_up(server.base_url, "user")
        made = await user.call("POST", "/posts", 201, json={"text": "see fine.example.com/x"})
        ((_, href),) = links_in(made["text_parts"])
        async with anonymous(server, html=True) as browser:
            page = await browser.get(href)
            assert page.status_code == 200 and "created only recently" in page.text
            assert 'href="http://fine.example.com/x"' in page.text  # the reader may still go on
            server.node.clock.advance(timedelta(days=3, minutes=1))
            assert (await browser.get(href)).status_code == 302
        await user.close()


# --- finding 6: no shortener chain reaches a special-purpose address --------------------------


async def test_chains_to_nat64_and_ipv4_compatible_addresses_are_not_followed(
    tmp_path: Path,
) -> None:
    # The name that leads to NAT64 is answered only when the chain's time is up: one second.
    settings = {"link_shorteners": ["short.test"], "link_timeout_seconds": 1.0}
    with serve(database_url=sqlite_url(tmp_path), **settings) as server:
        follower = links_of(server).follower
        real_policy = follower.default_address_policy
        # The shortener itself runs on a loopback address this test alone allows.
        follower.address_allowed = lambda ip: str(ip) == "127.0.0.2" or real_policy(ip)
        async with WebHost("127.0.0.2") as short:
            resolve_to(server, {"short.test": "127.0.0.2", "nat64.test": "64:ff9b::a00:1"})
            targets = {
                "nat64": "http://[64:ff9b::7f00:1]/",
                "nat64-metadata": "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
                "nat64-local": "http://[64:ff9b:1:7f00:0:100::]/",
                "compatible": "http://[::127.0.0.1]/",
                "compatible-private": "http://[::10.0.0.1]/",
                "6to4": "http://[2002:7f00:1::]/",
                "teredo": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
                "benchmarking": "http://198.18.0.1/",
                "shared": "http://100.64.0.1/",
            }
            for name, target in targets.items():
                short.routes[f"short.test/{name}"] = Route(302, target)
            short.routes["short.test/name"] = Route(302, "http://nat64.test/")
            async with anonymous(server) as api:
                for name in targets:
                    r = await api.get(
                        "/api/v1/links/check", params={"url": short.url("short.test", f"/{name}")}
                    )
                    result = r.json()
                    assert (result["verdict"], result["reason"]) == ("warn", "unsafe_address"), (
                        name,
                        result,
                    )
                # A name that resolves inside: refused too, without saying it resolved inside.
                r = await api.get(
                    "/api/v1/links/check", params={"url": short.url("short.test", "/name")}
                )
                assert (r.json()["verdict"], r.json()["reason"]) == ("warn", "unreachable")


# --- finding 3: anonymous checks are capped and say nothing about the network -----------------


async def test_concurrent_anonymous_checks_never_exceed_the_outbound_cap(tmp_path: Path) -> None:
    cap = 3
    settings = {
        "database_url": sqlite_url(tmp_path),
        "link_shorteners": ["short.test"],
        "link_allow_private": True,
        "link_fetch_concurrency": cap,
        "link_fetch_wait_seconds": 10.0,
        "link_timeout_seconds": 10.0,
    }
    with serve(**settings) as server:
        async with WebHost() as short, anonymous(server) as api:
            resolve_to(server, {"short.test": "127.0.0.1"})
            short.routes["short.test/slow"] = Route(302, "/end", delay=0.1)

            async def check() -> dict[str, Any]:
                url = short.url("short.test", "/slow")
                r = await api.get("/api/v1/links/check", params={"url": url})
                assert r.status_code == 200, r.text
                result: dict[str, Any] = r.json()
                return result

            results = await asyncio.gather(*(check() for _ in range(24)))
            assert short.most_in_flight <= cap, short.most_in_flight
            assert short.most_in_flight == cap  # the cap, not something else, was the limit
            assert all(r["verdict"] == "allow" for r in results)

            # Checks that wait longer than their bound for a free fetch get a generic warning.
            links_of(server).follower.slot_wait = 0.05
            results = await asyncio.gather(*(check() for _ in range(12)))
            assert short.most_in_flight <= cap
            reasons = {(r["verdict"], r["reason"]) for r in results}
            assert ("warn", "busy") in reasons and reasons <= {("allow", None), ("warn", "busy")}


async def test_a_refused_connection_and_a_timeout_give_the_same_answer(tmp_path: Path) -> None:
    timeout = 1.0
    settings = {
        "database_url": sqlite_url(tmp_path),
        "link_shorteners": ["short.test"],
        "link_allow_private": True,
        "link_timeout_seconds": timeout,
    }
    with serve(**settings) as server:
        async with WebHost() as short, anonymous(server) as api:
            resolve_to(server, {"short.test": "127.0.0.1"})
            closed_port = free_port()  # nothing listens there: connections are refused
            short.routes["short.test/refused"] = Route(302, f"http://127.0.0.1:{closed_port}/")
            short.routes["short.test/silent"] = Route(302, "/slow")
            short.routes["short.test/slow"] = Route(200, delay=timeout * 3)
            short.routes["short.test/dns"] = Route(302, "http://no-such-name.invalid/")
            answers = {}
            for name in ("refused", "silent", "dns"):
                began = time.monotonic()
                r = await api.get(
                    "/api/v1/links/check", params={"url": short.url("short.test", f"/{name}")}
                )
                took = time.monotonic() - began
                body = r.json()
                answers[name] = (body["verdict"], body["reason"], body["chain_error"]["detail"])
                # Answered no sooner than the time limit, whatever went wrong.
                assert took >= timeout * 0.9, (name, took)
            assert len(set(answers.values())) == 1, answers
            assert answers["refused"][:2] == ("warn", "unreachable")
            for word in ("refused", "Connect", "Timeout", "Errno", "timed out"):
                assert word not in answers["refused"][2]
