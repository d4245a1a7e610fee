"""The ASGI application: routes under /api/v1, the web client at /, one `Node` behind them."""

from __future__ import annotations

import gc
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from parley.api import collector, docs, errors
from parley.api.address_gate import AddressGate
from parley.api.body_limit import Allowance, BodyLimit
from parley.api.logs import redact_tokens_in_server_logs
from parley.api.routes import (
    accounts,
    bots,
    captions,
    events,
    hls,
    links,
    location,
    moderation,
    nodes,
    notifications,
    ops,
    pins,
    recordings,
    share,
    spaces,
)
from parley.api.security_headers import SecurityHeaders
from parley.api.worker_routing import MediaRouter
from parley.config import Settings
from parley.services.node import Node

# The collector's thresholds (Python's are 700, 10, 10). A join rush allocates fast and keeps
# much of it (thousands of sockets): at 700 the young generations were collected over a thousand
# times in a 2,000-client rush and the whole heap nine times, 2.8 s of CPU (a third of the
# server's) with pauses up to 0.5 s. At 10,000 it took 0.7 s, in pauses of 6 ms (at most 90).
# WebRTC listeners too: at 700, young collections caught their RTCP and ICE objects in flight
# and promoted them, and full collections walking every connection's objects took 15 % of the
# server's main thread at 400 listeners (py-spy, docs/benchmarks.md).
# The oldest generation at 2, not 10: what a full collection walks is only what survived since
# the last one (api/collector.py freezes the rest), so more frequent ones pause for less (at
# 10,000 sockets, 0.15-0.2 s every thousand joins or so, where 10 gave 0.6 s every 4,500).
GC_THRESHOLDS = (10_000, 10, 2)

WEB = Path(__file__).resolve().parent.parent / "web"

API_PREFIX = "/api/v1"
# The event socket (api/routes/events.py), as its route matches it.
EVENTS_PATH = compile_path(API_PREFIX + events.PATH)[0]


class WebClientMount(Mount):
    """The web client's files at /, everywhere except under /api/: a mount at / matches every
    path, which would turn a wrong method on an API route (405) into the web client's 404."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


class ParleyAPI(FastAPI):
    """FastAPI with the HTTP edge outside everything, Starlette's own error handler included, so
    that even a 500 carries the security headers and no body is read past its limit."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        self.edge_settings = settings
        super().__init__(**kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The event socket goes straight to its handler. Through the middlewares and routers
        it waited, for its whole life, in twenty nested coroutines with their closures, none of
        which does anything for a WebSocket (they handle HTTP, or FastAPI's dependencies, which
        the route has none of): a socket held about 175 objects for the collector to walk, and
        holds about 115 without them (10,000 sockets, gc.get_objects)."""
        if scope["type"] == "websocket" and not self.root_path and not scope.get("root_path"):
            found = EVENTS_PATH.match(scope["path"])
            if found is not None:
                scope["app"] = self
                scope["path_params"] = found.groupdict()
                await events.events(WebSocket(scope, receive, send))
                return
        await super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        settings = self.edge_settings
        if settings.workers > 1:
            self.media_router = MediaRouter(
                app, settings.worker_index, settings.workers, settings.data_dir
            )
            app = self.media_router
        app = AddressGate(app, {"/metrics"}, self.edge_settings.metrics_allowed_networks)
        app = BodyLimit(
            app,
            self.edge_settings.max_body_bytes,
            [
                Allowance(
                    "POST",
                    re.compile(r"/(api|internal)/v1/spaces/[^/]+/media"),
                    self.edge_settings.max_sdp_body_bytes,
                )
            ],
        )
        return SecurityHeaders(app)


def drain_process(settings: Settings) -> None:
    """Drain as SIGTERM does, because it is SIGTERM's own path: the server stops accepting,
    tells event sockets to reconnect (1012), waits for running requests (`drain_seconds`),
    then the node hands its spaces over and closes its media (`Node.stop`). With several
    workers the parent is told, which stops every worker so."""
    os.kill(os.getppid() if settings.workers > 1 else os.getpid(), signal.SIGTERM)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    redact_tokens_in_server_logs()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Again here: however the server was started, its logging is configured by now.
        redact_tokens_in_server_logs()
        node = Node(settings)
        node.on_drain = lambda: drain_process(settings)
        await node.start()
        app.state.node = node
        # What start-up allocated (modules, tables, codecs) lives as long as the process; the
        # collector need not walk it again, which shortens the pauses a mixer tick can feel.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        # And what survives a full collection from then on: sockets (api/collector.py).
        collector.install()
        try:
            yield
        finally:
            router = getattr(app, "media_router", None)
            if router is not None:
                await router.close()
            await node.stop()

    app = ParleyAPI(
        settings,
        title="Parley",
        version="1",
        summary="Live audio rooms with trust and safety built in",
        lifespan=lifespan,
        # /docs is served from Parley's own files (parley.api.docs); ReDoc needs inline styles.
        docs_url=None,
        redoc_url=None,
        # Parley's figures are Prometheus's, at /metrics; FastAPI's own OpenTelemetry would
        # look for providers (through the environment) on every request and socket.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    errors.install(app)
    # A join rush's two requests are matched first: FastAPI tries routers in order, and walking
    # past the others cost about 6 % of a rush's server CPU (py-spy, docs/benchmarks.md).
    app.include_router(spaces.rush, prefix=API_PREFIX)
    for module in (
        events, accounts, notifications, spaces, pins, moderation, links, hls, recordings, bots,
        location, captions,
    ):  # fmt: skip
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(ops.router)
    app.include_router(nodes.router)
    app.include_router(links.redirector)
    app.include_router(share.router)
    if settings.api_docs:
        app.include_router(docs.router(WEB))
    if (WEB / "index.html").exists():
        app.router.routes.append(
            WebClientMount("/", app=StaticFiles(directory=WEB, html=True), name="web")
        )
    return app
