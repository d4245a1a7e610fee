"""A small typed client for the Parley API, as a test (or a bot) would use it."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx
import websockets

PASSWORD = "correct horse battery"

# The tests speak plain HTTP to local servers, but an httpx client given no TLS context builds
# one of its own and loads the CA bundle into it: 20 to 25 ms of CPU a client, and the suite
# makes thousands (a sign-up makes two). One context, made once, serves every test client.
TLS = httpx.create_ssl_context()


def http_client(base_url: str | httpx.URL = "", **options: Any) -> httpx.AsyncClient:
    """An HTTP client for a test, on the shared TLS context; `options` as httpx's own."""
    return httpx.AsyncClient(base_url=base_url, verify=TLS, **options)


def unique_handle(prefix: str) -> str:
    """A handle no other test on a shared server has: the prefix (at most 8 characters, for the
    15 a handle may have) and six random hex digits."""
    return f"{prefix}_{secrets.token_hex(3)}"


class Person:
    """One signed-in account with its own HTTP client."""

    def __init__(self, base_url: str, handle: str, token: str, account: dict[str, Any]) -> None:
        self.base_url = base_url
        self.handle = handle
        self.token = token
        self.account = account
        self.http = http_client(
            f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    @property
    def id(self) -> str:
        return str(self.account["id"])

    @classmethod
    async def sign_up(cls, base_url: str, handle: str, name: str | None = None) -> Person:
        async with http_client(f"{base_url}/api/v1", timeout=10) as http:
            r = await http.post(
                "/accounts",
                json={"handle": handle, "password": PASSWORD, "display_name": name or handle},
            )
            assert r.status_code == 201, r.text
            r = await http.post("/sessions", json={"handle": handle, "password": PASSWORD})
            assert r.status_code == 201, r.text
            body = r.json()
        return cls(base_url, handle, body["token"], body["account"])

    @classmethod
    async def sign_in(cls, base_url: str, handle: str, password: str = PASSWORD) -> Person:
        """Another session of an existing account (another device)."""
        async with http_client(f"{base_url}/api/v1", timeout=10) as http:
            r = await http.post("/sessions", json={"handle": handle, "password": password})
            assert r.status_code == 201, r.text
            body = r.json()
        return cls(base_url, handle, body["token"], body["account"])

    async def call(self, method: str, path: str, expect: int | None = None, **kw: Any) -> Any:
        r = await self.http.request(method, path, **kw)
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        if r.status_code == 204 or not r.content:
            return None
        return r.json()

    async def refused(
        self, method: str, path: str, status: int, code: str, **kw: Any
    ) -> dict[str, Any]:
        """-> the problem document, once its status and code are the ones expected."""
        r = await self.http.request(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        assert r.headers["content-type"].startswith("application/problem+json")
        problem: dict[str, Any] = r.json()
        assert problem["code"] == code, r.text
        return problem

    def events(self, space_id: str, since: int | None = None) -> EventStream:
        """The space's event socket, authenticated by its first message (as the web client
        does): the token is never in the URL."""
        ws_base = self.base_url.replace("http://", "ws://")
        query = f"?since={since}" if since is not None else ""
        return EventStream(f"{ws_base}/api/v1/spaces/{space_id}/events{query}", token=self.token)

    async def close(self) -> None:
        await self.http.aclose()


async def bring_on_stage(host: Person, person: Person, space_id: str) -> None:
    """The person (already in the space) asks to speak, the host approves, and they unmute."""
    await person.call("POST", f"/spaces/{space_id}/hand", 204)
    await host.call("POST", f"/spaces/{space_id}/speakers/{person.handle}", 204)
    await person.call("POST", f"/spaces/{space_id}/unmute", 204)


async def write_post(person: Person, text: str) -> str:
    """A post by `person`; its id."""
    made: dict[str, str] = await person.call("POST", "/posts", 201, json={"text": text})
    return made["id"]


async def sign_in_answer(base_url: str, handle: str, password: str = PASSWORD) -> httpx.Response:
    """The sign-in's answer as it comes, refusals included (Person.sign_in wants a 201)."""
    async with http_client(f"{base_url}/api/v1", timeout=10) as http:
        return await http.post("/sessions", json={"handle": handle, "password": password})


async def told(person: Person, kind: str) -> list[dict[str, Any]]:
    """What `person` was notified of this kind, newest first."""
    found = await person.call("GET", "/me/notifications", 200)
    return [n["data"] for n in found if n["kind"] == kind]


async def make_bot(owner: Person, handle: str) -> dict[str, Any]:
    bot: dict[str, Any] = await owner.call(
        "POST", "/me/bots", 201, json={"handle": handle, "display_name": f"{handle} (bot)"}
    )
    return bot


async def token_for(owner: Person, bot: str | None, *scopes: str) -> Person:
    """A client speaking with a new token of `bot` (or of the owner when None)."""
    body = {"name": f"{bot or owner.handle} token", "scopes": list(scopes), "bot": bot}
    made = await owner.call("POST", "/me/tokens", 201, json=body)
    assert made["token"].startswith("pt_") and made["scopes"] == sorted(scopes)
    return Person(owner.base_url, bot or owner.handle, made["token"], made["account"])


class EventStream:
    """An event WebSocket that collects what it receives. With `token`, it authenticates by
    sending `{"type": "auth", "token"}` first."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        unix_socket: str | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.headers = headers
        # Through a Unix socket instead of TCP (one worker of `serve --workers N`).
        self.unix_socket = unix_socket
        self.received: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventStream:
        if self.unix_socket is not None:
            self._ws = await websockets.unix_connect(
                self.unix_socket, self.url, max_queue=None, additional_headers=self.headers
            )
        else:
            self._ws = await websockets.connect(
                self.url, max_queue=None, additional_headers=self.headers
            )
        if self.token is not None:
            await self._ws.send(json.dumps({"type": "auth", "token": self.token}))
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                self.received.append(json.loads(message))
        except websockets.ConnectionClosed:
            pass
        self.close_code = self._ws.close_code
        self.close_reason = self._ws.close_reason

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()
        if self._reader:
            await self._reader

    @property
    def response_headers(self) -> Any:
        """The headers of the answer that opened the socket (a proxy may add its own)."""
        return self._ws.response.headers

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in self.received if "seq" in m and m.get("type") not in ("snapshot",)]

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def wait_for(self, type_: str, timeout: float = 5.0, **data: Any) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for e in self.received:
                    if e.get("type") == type_ and all(
                        e.get("data", {}).get(k) == v for k, v in data.items()
                    ):
                        return e
                await asyncio.sleep(0.02)

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        assert self._reader is not None
        async with asyncio.timeout(timeout):
            await asyncio.shield(self._reader)
        return self.close_code
