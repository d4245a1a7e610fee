"""The HTTP server a Parley process runs: uvicorn's, configured alike for `parley serve` and for
each of its workers, and telling the node the moment the process is told to stop."""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI

from parley.api.websocket_protocol import WebSocketProtocol
from parley.config import Settings
from parley.services.node import Node


def server_config(
    app: FastAPI, settings: Settings, *, host: str = "127.0.0.1", port: int = 8000
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        ws=WebSocketProtocol,
        ws_per_message_deflate=False,
        # A larger frame closes the socket (1009) as soon as its header is read, unbuffered.
        ws_max_size=settings.max_ws_message_bytes,
        ws_ping_interval=settings.ws_ping_seconds,
        ws_ping_timeout=settings.ws_ping_seconds,
        # Parley reads X-Forwarded-For itself, from `trusted_proxies` only (core.ratelimit):
        # uvicorn's default believes any local peer, which would let a client on the same
        # machine pick the address it is counted under.
        proxy_headers=False,
        timeout_graceful_shutdown=round(settings.drain_seconds),
    )


class NodeServer(uvicorn.Server):
    """uvicorn's server, which tells the node of a SIGTERM (or SIGINT) as the signal comes.

    uvicorn itself notices the signal on its next tick, 0.1 s later or more on a busy loop, and
    only then stops accepting. An offer answered meanwhile made a media connection that the
    node closes a moment later, and a browser whose connection never came up waits out its
    connect timeout (15 s, web/js/media.js) before offering again; refused (503), it offers
    again within a second and lands on another node."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        node = getattr(self.app.state, "node", None)  # none until the lifespan has started it
        if isinstance(node, Node):
            node.drain_begins()
        super().handle_exit(sig, frame)
