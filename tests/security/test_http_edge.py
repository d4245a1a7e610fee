"""The HTTP edge (issue 8, findings 2 and 8, and /metrics of 7): bodies and WebSocket messages
over their limits are refused before they are held, every response carries the browser's
security headers, and the metrics are only for allowed addresses."""

from __future__ import annotations

import json
import re
import secrets
import select
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.common import server_process
from parley.api.address_gate import allowed
from parley.config import Settings
from tests.support.clients import Person, http_client
from tests.support.moderation import admin
from tests.support.problems import assert_problem, raw_json
from tests.support.servers import ServerThread, serve, sqlite_url

MB = 1024 * 1024
DEFAULT_LIMIT = Settings().max_body_bytes
SDP_LIMIT = Settings().max_sdp_body_bytes

# --- request bodies ---------------------------------------------------------------------------


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak resident size) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def _json_body(size: int, piece: int = 64 * 1024) -> Iterator[bytes]:
    """A `size`-byte JSON document (`{"text": "aaa..."}`), `piece` bytes at a time."""
    prefix, suffix = b'{"text": "', b'"}'
    filler = size - len(prefix) - len(suffix)
    yield prefix
    while filler > 0:
        yield b"a" * min(piece, filler)
        filler -= piece
    yield suffix


def _read_answer(conn: socket.socket, deadline: float) -> bytes:
    """One HTTP response (headers and a Content-Length body), or what came before the deadline."""
    answer = b""
    while time.monotonic() < deadline:
        head, sep, body = answer.partition(b"\r\n\r\n")
        if sep:
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        answer += chunk
    return answer


def _send_huge_body(port: int, path: str, size: int, chunked: bool) -> tuple[bytes, int, float]:
    """POSTs a `size`-byte JSON body, 64 KiB at a time, and stops sending as soon as the server
    answers. Returns the answer, how many body bytes went out, and the time it took."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    started = time.monotonic()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall((head + "\r\n").encode())
        answered = False
        for data in _json_body(size):
            if select.select([conn], [], [], 0)[0]:
                answered = True
                break
            try:
                conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
            except OSError:
                answered = True  # the server closed the connection: its answer is waiting
                break
            sent += len(data)
        if chunked and not answered:
            conn.sendall(b"0\r\n\r\n")
        answer = _read_answer(conn, time.monotonic() + 60)
    return answer, sent, time.monotonic() - started


@pytest.fixture(scope="module")
def node_process() -> Iterator[Any]:
    """`parley serve` in a process of its own, so its memory is the server's alone."""
    with server_process() as process:
        yield process


# Every test of the module's server process on one pytest-xdist worker (make test), which starts
# that process once.
@pytest.mark.xdist_group("node_process")
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100_mb_body_is_refused_before_it_is_read(node_process: Any, chunked: bool) -> None:
    # Sign-up: a route anyone may call, whose body is read and parsed (routes that need a
    # session refuse a request without one before reading its body).
    port = int(node_process.base.rsplit(":", 1)[1])
    for _ in range(3):  # warm up: the first requests allocate what every later one reuses
        _send_huge_body(port, "/api/v1/accounts", 1000, chunked)
    before = _memory_kib(node_process.pid)

    answer, sent, seconds = _send_huge_body(port, "/api/v1/accounts", 100 * MB, chunked)

    after = _memory_kib(node_process.pid)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    document = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert document["code"] == "body_too_large" and document["limit"] == DEFAULT_LIMIT
    # The answer came long before the body was sent: the server did not wait for it.
    assert sent < 20 * MB, f"{sent / MB:.1f} MB sent before the answer"
    assert seconds < 10, seconds
    grown = (after["VmHWM"] - before["VmHWM"]) / 1024
    print(f"413 after {sent / MB:.2f} MB sent, {seconds * 1000:.0f} ms; peak RSS +{grown:.1f} MB")
    assert grown < 20, f"the server's peak memory grew by {grown:.0f} MB"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    # Accounts here are minutes old: without this their links would all open on the warning
    # page, and the redirector's plain redirect would never be seen.
    with serve(database_url=sqlite_url(tmp_path), link_new_account_days=0) as running:
        yield running


@pytest.fixture
async def person(server: ServerThread) -> AsyncIterator[Person]:
    someone = await Person.sign_up(server.base_url, "edge")
    yield someone
    await someone.close()


async def test_bodies_over_the_limit_get_413_and_bodies_under_it_reach_the_route(
    person: Person,
) -> None:
    sid = (await person.call("POST", "/spaces", 201, json={"title": "Edge"}))["id"]
    # Just under the limit (10,000 characters, each escaped as 6 bytes): the route itself
    # answers, with its own rule.
    near = raw_json({"text": "\u00e9" * 10_000})
    assert DEFAULT_LIMIT - 8 * 1024 < len(near["content"]) < DEFAULT_LIMIT
    await person.refused("POST", "/posts", 422, "invalid_post", **near)
    over = {"text": "x" * (DEFAULT_LIMIT + 1)}
    for method, path in [("POST", "/posts"), ("PATCH", "/accounts/me"), ("POST", "/spaces")]:
        document = assert_problem(
            await person.http.request(method, path, json=over), 413, "body_too_large"
        )
        assert str(DEFAULT_LIMIT) in document["title"], document

    # The WebRTC offer gets more room: a real offer is 5-10 KB, one of 100 KB still arrives.
    sdp = "v=0\r\n" + "a=x-padding:" + "p" * (100 * 1024) + "\r\n"
    r = await person.http.post(f"/spaces/{sid}/media", json={"type": "offer", "sdp": sdp})
    assert r.status_code != 413 and r.status_code < 500, r.text
    r = await person.http.post(
        f"/spaces/{sid}/media", json={"type": "offer", "sdp": "p" * (SDP_LIMIT + 1)}
    )
    assert_problem(r, 413, "body_too_large")


async def test_a_real_sized_sdp_offer_gets_an_answer(server: ServerThread, person: Person) -> None:
    from tests.support.audio import MediaClient

    sid = (await person.call("POST", "/spaces", 201, json={"title": "Offer"}))["id"]
    client = await MediaClient.connect(person, sid, tone=440.0)
    try:
        offer = client.pc.localDescription
        assert offer is not None and len(offer.sdp) > 500
        assert client.pc.remoteDescription is not None  # the server's answer
    finally:
        await client.close()


# --- WebSocket messages -----------------------------------------------------------------------


@pytest.mark.xdist_group("node_process")
@pytest.mark.parametrize("where", ["test server", "parley serve"])
async def test_a_1_mb_websocket_message_closes_the_socket(
    server: ServerThread, node_process: Any, where: str
) -> None:
    base = server.base_url if where == "test server" else node_process.base
    person = await Person.sign_up(base, f"ws{secrets.token_hex(4)}")
    sid = (await person.call("POST", "/spaces", 201, json={"title": "Frames"}))["id"]
    async with person.events(sid) as stream:
        await stream.wait_for("snapshot")
        ws: Any = stream._ws  # the client's socket, to send what no client should
        await ws.send("x" * 1000)  # small messages are fine
        await person.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Frames, renamed"})
        await stream.wait_for("space_updated")
        await ws.send("x" * MB)
        assert await stream.wait_closed(timeout=5) == 1009  # message too big
    await person.close()


# --- headers ----------------------------------------------------------------------------------

REQUIRED_CSP = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
]


def _csp(header: str) -> dict[str, str]:
    directives = (d.strip() for d in header.split(";") if d.strip())
    return {d.split()[0]: d for d in directives}


def assert_secure_headers(response: httpx.Response, *, strict_page: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert "microphone=(self)" in headers.get("permissions-policy", ""), where
    policy = _csp(headers.get("content-security-policy", ""))
    assert policy, f"{where}: no Content-Security-Policy"
    for name in ("script-src", "style-src", "default-src"):
        assert "unsafe-inline" not in policy.get(name, ""), f"{where}: {policy}"
        assert "*" not in policy.get(name, ""), f"{where}: {policy}"
    if strict_page:  # the redirector's pages: nothing but their own stylesheets and icon
        assert policy["default-src"] == "default-src 'none'", where
        assert policy["style-src"] == "style-src 'self'", where
        assert policy["img-src"] == "img-src 'self'", where
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", where
    else:
        for directive in REQUIRED_CSP:
            assert policy.get(directive.split()[0]) == directive, f"{where}: {policy}"


def assert_no_inline_code(html: str, where: str) -> None:
    assert "<style" not in html, where
    assert not re.search(r"\sstyle\s*=", html), where
    assert not re.search(r"\son[a-z]+\s*=", html), where
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'\ssrc="/', tag), f"{where}: {tag}"  # from this origin, never inline
    loads = r'<(?:script|link|img|iframe|audio|video|source)\b[^>]*\s(?:src|href)="([^"]+)"'
    for url in re.findall(loads, html):
        assert not re.match(r"(https?:)?//", url), f"{where}: loads {url}"


async def test_every_kind_of_response_carries_the_security_headers(
    server: ServerThread, person: Person
) -> None:
    mod = await admin(server, "mod")
    for verdict, host in (("warn", "warned.example"), ("block", "blocked.example")):
        await mod.call(
            "POST",
            "/admin/link-rules",
            201,
            json={"match": "host", "pattern": host, "verdict": verdict, "rule": "malware"}
            | {"reason": "Serves malware"},
        )
    links = {
        name: await person.call("POST", "/links", 201, json={"url": f"https://{host}/x"})
        for name, host in (
            ("warn", "warned.example"),
            ("block", "blocked.example"),
            ("pass", "fine.example"),
        )
    }
    browser = {"accept": "text/html"}
    async with http_client(base_url=server.base_url, timeout=10, headers=browser) as web:
        pages = {
            "index": await web.get("/"),
            "script": await web.get("/js/app.js"),
            "stylesheet": await web.get("/css/app.css"),
            "icon": await web.get("/icon.svg"),
            "static 404": await web.get("/no-such-file.js"),
            "openapi": await web.get("/openapi.json"),
            "docs": await web.get("/docs"),
            "health": await web.get("/healthz"),
            "metrics": await web.get("/metrics"),
            "API 401": await web.get("/api/v1/me/notices"),
            "API 404": await web.get("/api/v1/no-such-route"),
            "API 405": await web.delete("/api/v1/spaces"),
            "API 422": await web.post("/api/v1/accounts", json={}),
            "API 413": await web.post("/api/v1/accounts", content=b"{" * (DEFAULT_LIMIT + 1)),
        }
        api_json = await person.http.get("/spaces?state=live")
        redirector = {
            "interstitial": await web.get(links["warn"]["href"]),
            "refusal": await web.get(links["block"]["href"]),
            "redirect": await web.get(links["pass"]["href"]),
            "unknown link": await web.get("/l/nope"),
        }
        sheets = [await web.get(f"/css/{name}.css") for name in ("page", "link")]

    assert pages["index"].status_code == 200 and pages["script"].status_code == 200
    assert pages["static 404"].status_code == 404 and pages["API 404"].status_code == 404
    assert pages["API 413"].status_code == 413 and pages["metrics"].status_code == 200
    for response in [*pages.values(), api_json, *sheets]:
        assert_secure_headers(response)
    assert [r.status_code for r in redirector.values()] == [200, 403, 302, 404]
    for response in redirector.values():
        assert_secure_headers(response, strict_page=True)
    for name in ("interstitial", "refusal", "unknown link"):
        html = redirector[name].text
        assert_no_inline_code(html, name)
        assert '<link rel="stylesheet" href="/css/page.css">' in html, name
        assert '<link rel="icon" href="/icon.svg" type="image/svg+xml">' in html, name
        assert '<link rel="stylesheet" href="/css/link.css">' in html, name
    for sheet in sheets:
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
    # One icon in every tab: the app's, the docs' and the redirector's pages (above).
    assert pages["icon"].headers["content-type"].startswith("image/svg+xml")
    for name in ("index", "docs"):
        assert '<link rel="icon" href="/icon.svg"' in pages[name].text, name
    assert_no_inline_code(pages["index"].text, "index.html")
    assert_no_inline_code(pages["docs"].text, "/docs")


async def test_docs_are_served_from_this_origin(server: ServerThread) -> None:
    async with http_client(base_url=server.base_url, timeout=10) as web:
        docs = await web.get("/docs")
        assert docs.status_code == 200, "Swagger UI is not installed: run `make setup`"
        assets = re.findall(r'(?:src|href)="(/[^"]+)"', docs.text)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
        for asset in assets:
            r = await web.get(asset)
            assert r.status_code == 200, asset
            assert_secure_headers(r)
        assert (await web.get("/redoc")).status_code == 404  # ReDoc needs inline styles
        assert (await web.get("/openapi.json")).json()["info"]["title"] == "Parley"


async def test_docs_can_be_turned_off(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path), api_docs=False) as running:
        async with http_client(base_url=running.base_url, timeout=10) as web:
            assert (await web.get("/docs")).status_code == 404
            assert (await web.get("/openapi.json")).status_code == 200


# --- /metrics ---------------------------------------------------------------------------------


async def test_metrics_are_for_allowed_addresses_only(tmp_path: Path, server: ServerThread) -> None:
    async with http_client(base_url=server.base_url, timeout=10) as web:
        r = await web.get("/metrics")  # loopback is allowed by default
        assert r.status_code == 200 and "parley_" in r.text
    with serve(
        database_url=sqlite_url(tmp_path / "other"), metrics_allowed_networks="10.0.0.0/8"
    ) as running:
        async with http_client(base_url=running.base_url, timeout=10) as web:
            refused = await web.get("/metrics")
            assert_problem(refused, 403, "address_not_allowed")
            assert "parley_" not in refused.text
            assert (await web.get("/healthz")).status_code == 200


def test_metrics_addresses_match_by_network() -> None:
    networks = Settings(metrics_allowed_networks="127.0.0.0/8, ::1, 192.0.2.0/24")
    allowed_networks = networks.metrics_allowed_networks
    assert allowed("127.0.0.1", allowed_networks)
    assert allowed("::1", allowed_networks)
    assert allowed("::ffff:127.0.0.1", allowed_networks)  # IPv4 on a dual-stack socket
    assert allowed("192.0.2.77", allowed_networks)
    for outside in ("10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "", None, "testclient"):
        assert not allowed(outside, allowed_networks), outside
    assert not allowed("127.0.0.1", Settings(metrics_allowed_networks="").metrics_allowed_networks)
