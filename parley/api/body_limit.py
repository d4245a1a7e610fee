"""Request bodies over a size limit are refused with 413 before they are read, let alone parsed.

A pure ASGI middleware, in front of everything that reads a body: FastAPI reads a JSON body whole
and parses it, so without a limit one 100 MB request holds a gigabyte while it is parsed. A
declared `Content-Length` over the limit is refused before a byte of the body is read; a chunked
body is counted as it arrives, and the first chunk that passes the limit ends the reading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE: Final = "body_too_large"


@dataclass(frozen=True)
class Allowance:
    """A larger limit for the requests of one route (by method and a full-match path pattern)."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, allowances: Sequence[Allowance] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.allowances = tuple(allowances)

    def limit_for(self, scope: Scope) -> int:
        for allowance in self.allowances:
            if scope["method"] == allowance.method and allowance.path.fullmatch(scope["path"]):
                return allowance.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return

        received = 0
        over = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, over
            if over:  # the app asks again after the refusal: the body ends here for it
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    # Whatever the app makes of this, the answer is replaced by the 413 below.
                    raise HTTPException(413, f"The request body is larger than {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over:
                # The app's answer to the aborted read (an error page of its own) is dropped.
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed length before we see it
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": f"/problems/{CODE}",
            "title": f"The request body is larger than {limit} bytes",
            "status": 413,
            "code": CODE,
            "limit": limit,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
