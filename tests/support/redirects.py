"""A tiny web server playing link shorteners and their destinations, for redirect-chain tests.

One aiohttp server answers for many host names (it goes by the Host header): a route gives a
status and a Location, anything else answers 200. Every request is recorded, so a test can prove
that a refused address was never contacted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from parley.services.link_checks import LinkChecks
from tests.support.servers import ServerThread, free_port


@dataclass
class Route:
    status: int
    location: str = ""
    delay: float = 0.0
    only_get: bool = False  # answer HEAD with 405, as some shorteners do


@dataclass
class WebHost:
    """Serves `routes` ("host/path" → Route) on `address`; `{port}` in a Location is the port."""

    address: str = "127.0.0.1"
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)  # (method, "host/path")
    in_flight: int = 0  # requests being answered now
    most_in_flight: int = 0  # the most ever answered at once
    port: int = 0
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> WebHost:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, self.address, self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits_on(self, host: str) -> int:
        return sum(1 for _, where in self.hits if where.startswith(host + "/"))

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
        where = f"{host}{request.path_qs}"
        self.hits.append((request.method, where))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._route(where, request)
        finally:
            self.in_flight -= 1

    async def _route(self, where: str, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(where)
        if route is None:
            return web.Response(text="a destination")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.only_get and request.method == "HEAD":
            return web.Response(status=405)
        location = route.location.replace("{port}", str(self.port))
        return web.Response(status=route.status, headers={"Location": location})


def resolve_to(server: ServerThread, names: dict[str, str]) -> None:
    """Make the server's link checker resolve these host names to these addresses (and use the
    system resolver for anything else)."""
    follower = links_of(server).follower
    system = follower.resolve

    async def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return [names[host]]
        return await system(host, port)

    follower.resolve = resolve


def links_of(server: ServerThread) -> LinkChecks:
    return server.node.link_checks
