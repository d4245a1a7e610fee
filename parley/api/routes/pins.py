"""Posts pinned to a space: the host and cohosts pin and unpin, everyone reads them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from parley.api.deps import CallerDep, NodeDep, limit
from parley.api.routes.accounts import posts_out
from parley.api.schemas.accounts import PostOut
from parley.api.schemas.spaces import NewPin
from parley.core.ratelimit import LimitName

router = APIRouter(prefix="/spaces", tags=["spaces"])


@router.get("/{space_id}/pins", response_model=list[PostOut])
async def pinned(space_id: str, node: NodeDep) -> list[PostOut]:
    """The posts pinned to the space, the latest first, their links through the redirector."""
    await node.sharing.exposed(space_id)  # as GET /spaces/{id}: nothing of a space taken down
    return await posts_out(node, await node.pins.pinned(space_id))


@router.post("/{space_id}/pins", status_code=204, dependencies=[limit(LimitName.SPACE_ACTIONS)])
async def pin(space_id: str, body: NewPin, caller: CallerDep, node: NodeDep) -> Response:
    """Pin a post above the stage (host and cohosts; at most 3, `too_many_pins`). Its links are
    checked again as they are now: a blocked one refuses it. Everyone gets `pins_changed`."""
    await node.pins.pin(caller, space_id, body.post_id)
    return Response(status_code=204)


@router.delete(
    "/{space_id}/pins/{post_id}", status_code=204, dependencies=[limit(LimitName.SPACE_ACTIONS)]
)
async def unpin(space_id: str, post_id: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.pins.unpin(caller, space_id, post_id)
    return Response(status_code=204)
