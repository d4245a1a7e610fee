"""With several worker processes on one port, a space's media lives in one of them.

Every WebRTC connection of a space must reach the one mixer that mixes it, so a space's media
belongs to its *home* worker, `crc32(space id) mod N`: no registry to keep, nothing stale
after a restart, the same answer in every worker. The kernel hands a new TCP connection to
whichever worker accepts it first; a media request (`/spaces/{id}/media`) arriving at another
worker is forwarded, as it is, to the home worker over that worker's Unix socket
(`data_dir/workers/{index}.sock`), which answers it in full (authentication, limits, the
offer). Everything else is answered where it lands: the database and the Redis bus make the
workers one service, exactly as separate nodes are.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.api.errors import problem

MEDIA_PATH = re.compile(r"/api/v1/spaces/([^/]+)/media")
# Not forwarded: they describe one hop, not the request.
HOP_HEADERS = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"host"})
# httpx hands over the body decoded, so these would no longer be true of it.
DECODED = frozenset({"content-length", "content-encoding"})
WORKER_HEADER = "x-parley-worker"


def home_worker(space_id: str, workers: int) -> int:
    return zlib.crc32(space_id.encode()) % workers


def worker_socket(data_dir: Path, index: int) -> Path:
    return data_dir / "workers" / f"{index}.sock"


class MediaRouter:
    """Forwards media requests to their space's home worker; says which worker answered."""

    def __init__(self, app: ASGIApp, index: int, workers: int, data_dir: Path) -> None:
        self.app = app
        self.index = index
        self.workers = workers
        self.data_dir = data_dir
        self._clients: dict[int, httpx.AsyncClient] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.workers > 1:
            match = MEDIA_PATH.fullmatch(scope["path"])
            if match is not None:
                home = home_worker(match[1], self.workers)
                if home != self.index:
                    await self._forward(home, scope, receive, send)
                    return
        await self.app(scope, receive, self._signed(scope, send))

    def _signed(self, scope: Scope, send: Send) -> Send:
        if scope["type"] != "http" or self.workers == 1:
            return send

        async def signed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (WORKER_HEADER.encode(), b"%d" % self.index),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return signed

    async def _forward(self, home: int, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_HEADERS]
        path = scope["path"] + (
            f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        )
        client = self._client(home)
        try:
            answer = await client.request(scope["method"], path, headers=headers, content=body)
        except httpx.HTTPError:
            refusal = problem(503, "worker_unavailable", "The space's media worker is restarting")
            await refusal(scope, receive, send)
            return
        kept = [
            (k.encode(), v.encode())
            for k, v in answer.headers.multi_items()
            if k.encode() not in HOP_HEADERS and k.lower() not in DECODED
        ]
        await _respond(send, answer.status_code, answer.content, kept)

    def _client(self, home: int) -> httpx.AsyncClient:
        client = self._clients.get(home)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=str(worker_socket(self.data_dir, home)))
            client = httpx.AsyncClient(transport=transport, base_url="http://worker", timeout=30)
            self._clients[home] = client
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
