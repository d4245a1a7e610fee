"""Files the API serves (live HLS, a recording's playlists and segments, downloads): the route
that answers GET and HEAD alike, byte ranges of immutable files, and their cache headers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from parley.api.errors import problem
from parley.services.hls import HlsFile

Responses = dict[int | str, dict[str, Any]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def file_route(
    router: APIRouter, path: str, *, summary: str, types: Sequence[str], responses: Responses
) -> Callable[[Endpoint], Endpoint]:
    """GET of a file, whose body is one of `types`; HEAD answers as GET does, without the body
    (`file_response` drops it), and stays out of the schema, like every HEAD."""

    def register(endpoint: Endpoint) -> Endpoint:
        ok: Responses = {200: {"content": {media_type: {} for media_type in types}}}
        router.get(path, response_class=Response, summary=summary, responses=ok | responses)(
            endpoint
        )
        return router.head(path, include_in_schema=False)(endpoint)

    return register


class RangeNotSatisfiable(Exception):
    pass


def requested_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range (first, last, inclusive) a `Range` header asks for, or None to send
    everything: no header, another unit, several ranges or a malformed one (RFC 9110, 14.2:
    a server may ignore those). Raises RangeNotSatisfiable for a range past the end."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return None
    if (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return None
    if not first:  # the last N bytes
        wanted = int(last)
        if wanted == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - wanted), size - 1
    start = int(first)
    end = int(last) if last else size - 1  # "from here to the end"
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def file_response(found: HlsFile, request: Request) -> Response:
    """The file as the request asks for it: the range it names of an immutable file, and no
    body for a HEAD."""
    data = found.data
    headers = {"Cache-Control": found.cache_control}
    status = 200
    if found.immutable:
        headers["Accept-Ranges"] = "bytes"
        try:
            wanted = requested_range(request.headers.get("range"), len(data))
        except RangeNotSatisfiable:
            refused = problem(416, "range_not_satisfiable", "The range starts past the end")
            refused.headers["Content-Range"] = f"bytes */{len(data)}"
            return refused
        if wanted is not None:
            first, last = wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first : last + 1], 206
    headers["Content-Length"] = str(len(data))
    head = request.method == "HEAD"
    return Response(
        b"" if head else data, status_code=status, media_type=found.media_type, headers=headers
    )
