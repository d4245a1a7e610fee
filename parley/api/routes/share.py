"""Share links: `/s/{id}`, a space's public page, at the root like the redirector (it is what
people pass around). Browsers get HTML, the refusals included; other clients get refusals as
problem documents with their stable code, like every 4xx of the API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from parley.api import share_page
from parley.api.deps import NodeDep
from parley.core.errors import Gone, NotFound

router = APIRouter(tags=["spaces"])


@router.get(
    "/s/{space_id}",
    response_class=HTMLResponse,
    summary="A space's share page: title, host, stage, pins, a play button (HLS), no sign-in",
    responses={
        404: {"description": "No such space, or its host is suspended (`space_unavailable`)"},
        410: {"description": "The space was ended by moderation (`space_removed`)"},
    },
)
async def share(space_id: str, request: Request, node: NodeDep) -> Response:
    try:
        view = await node.sharing.exposed(space_id)
    except (NotFound, Gone) as refused:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        page = share_page.unavailable(refused.code, refused.message)
        return HTMLResponse(page, refused.status, headers={"Cache-Control": "no-store"})
    posts = await node.pins.pinned(space_id) if view.space.pinned else []
    parts = await node.redirector.render([(p.text, p.author.id) for p in posts])
    page = share_page.space_page(view, list(zip(posts, parts, strict=True)))
    return HTMLResponse(page, headers={"Cache-Control": share_page.CACHE_CONTROL})
