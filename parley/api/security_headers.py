"""Headers that every HTTP response carries, so a browser holding a session token for this origin
runs only Parley's own scripts, loads nothing from elsewhere, is never framed, and tells no other
site where its user was.

A pure ASGI middleware at the very outside of the application, so that error pages, 404s of the
static files and 413 refusals get the headers too. A header a route set itself (the redirector's
stricter policy) is kept.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # No inline style either: the web client sets dynamic values through the CSSOM.
        "style-src 'self'",
        # Swagger UI's stylesheet (/docs) draws its icons from data: URLs.
        "img-src 'self' data:",
        # Recordings come from the API; live audio is a MediaStream, which no directive governs,
        # or, listening by HLS, a MediaSource that hls.js attaches through a blob: URL. (hls.js
        # runs without its worker, so no worker-src blob: is needed.)
        "media-src 'self' blob:",
        # fetch and the event WebSocket of the same origin ('self' covers ws: and wss: there).
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Every link to elsewhere goes through the redirector; neither it nor any page tells the
    # destination where the user came from.
    "Referrer-Policy": "no-referrer",
    # Only Parley's own pages may ask for the microphone; nothing else a browser offers is used.
    "Permissions-Policy": (
        "microphone=(self), camera=(), geolocation=(), payment=(), usb=(), display-capture=()"
    ),
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
