"""Live HLS of a space: its playlist and segments, with the headers an HTTP cache or CDN needs.

No sign-in needed: every space is public, its share page plays this signed out, and Safari's own
HLS cannot send a token. A space moderation took down is not served (404 `space_unavailable`,
410 `space_removed`); someone signed in who was removed from the space, or whom its host
blocked, is refused too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from parley.api.deps import MaybeCallerDep, NodeDep
from parley.api.errors import problem
from parley.services.hls import HlsFile

router = APIRouter(prefix="/spaces", tags=["hls"])


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


# HEAD answers as GET does, without the body; it stays out of the schema, like every HEAD.
@router.head("/{space_id}/hls/{name}", include_in_schema=False)
@router.get(
    "/{space_id}/hls/{name}",
    response_class=Response,
    summary="A live space's HLS playlist (live.m3u8), one of its segments or parts",
    responses={
        400: {"description": "`_HLS_msn` or `_HLS_part` malformed, or too far ahead"},
        200: {"content": {"application/vnd.apple.mpegurl": {}, "video/mp2t": {}}},
        206: {"description": "A byte range of a segment"},
        403: {"description": "Signed in, and removed from the space or blocked by its host"},
        404: {"description": "No such space, not live, taken down, or no such file"},
        410: {"description": "The space was ended by moderation"},
        416: {"description": "The range starts past the end of the segment"},
    },
)
async def hls_file(
    space_id: str,
    name: str,
    request: Request,
    caller: MaybeCallerDep,
    node: NodeDep,
    msn: Annotated[
        str | None,
        Query(alias="_HLS_msn", description="Blocking reload: wait for this media sequence"),
    ] = None,
    part: Annotated[
        str | None, Query(alias="_HLS_part", description="Blocking reload: and this part of it")
    ] = None,
) -> Response:
    """The live playlist (`live.m3u8`), a segment (`seg-NNNNNN.ts`) or, with LL-HLS parts on,
    a part (`seg-NNNNNN.P.ts`). A playlist request with `_HLS_msn` (and `_HLS_part`) is held
    until the playlist holds that segment (or part), three target durations at most."""
    found = await node.hls.file(caller, space_id, name, msn=msn, part=part)
    return _respond(found, request.headers.get("range"), head=request.method == "HEAD")


def _respond(found: HlsFile, range_header: str | None, *, head: bool) -> Response:
    data = found.data
    headers = {"Cache-Control": found.cache_control}
    status = 200
    if found.immutable:
        headers["Accept-Ranges"] = "bytes"
        try:
            wanted = requested_range(range_header, len(data))
        except RangeNotSatisfiable:
            refused = problem(416, "range_not_satisfiable", "The range starts past the end")
            refused.headers["Content-Range"] = f"bytes */{len(data)}"
            return refused
        if wanted is not None:
            first, last = wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first : last + 1], 206
    headers["Content-Length"] = str(len(data))
    return Response(
        b"" if head else data, status_code=status, media_type=found.media_type, headers=headers
    )
