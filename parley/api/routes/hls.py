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
from parley.api.files import file_response, file_route

router = APIRouter(prefix="/spaces", tags=["hls"])


@file_route(
    router,
    "/{space_id}/hls/{name}",
    summary="A live space's HLS playlist (live.m3u8), one of its segments or parts",
    types=("application/vnd.apple.mpegurl", "video/mp2t"),
    responses={
        400: {"description": "`_HLS_msn` or `_HLS_part` malformed, or too far ahead"},
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
    return file_response(found, request)
