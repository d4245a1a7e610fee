"""Routes one node calls on another (issue 12), under /internal/v1 and out of the public API
schema: a space's program relayed to a node with listeners of it, and a stage member's offer
passed on to the space's home. Each request proves it comes from a node of the deployment
(core.homing's node credential, made with PARLEY_NODE_SECRET); a load balancer should not
route /internal/ from outside at all.
"""

from __future__ import annotations

import contextlib
import logging

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect

from parley.api.deps import NodeDep
from parley.api.schemas.nodes import ForwardedAnswer, ForwardedOffer
from parley.core.errors import RuleViolation, Unauthenticated
from parley.core.homing import NodeAuthError
from parley.services.node import Node
from parley.services.placement import OFFER_PURPOSE, relay_purpose
from parley.services.relay import relay_program

log = logging.getLogger(__name__)

router = APIRouter(prefix="/internal/v1", include_in_schema=False)

CLOSE_NOT_A_NODE = 4401
CLOSE_REFUSED = 4409


def _check_node(node: Node, authorization: str | None, purpose: str) -> str:
    try:
        return node.homing.caller_node(authorization, purpose)
    except NodeAuthError as exc:
        raise Unauthenticated("not_a_node", f"Only nodes of this deployment may: {exc}") from exc


@router.post("/spaces/{space_id}/media", response_model=ForwardedAnswer)
async def forwarded_offer(
    space_id: str, body: ForwardedOffer, request: Request, node: NodeDep
) -> ForwardedAnswer:
    _check_node(node, request.headers.get("authorization"), OFFER_PURPOSE)
    sdp = await node.media.connect_forwarded(body.account_id, body.session_id, space_id, body.sdp)
    return ForwardedAnswer(sdp=sdp)


@router.post("/spaces/{space_id}/media/{account_id}/hang-up", status_code=204)
async def forwarded_hang_up(
    space_id: str, account_id: str, request: Request, node: NodeDep
) -> Response:
    _check_node(node, request.headers.get("authorization"), OFFER_PURPOSE)
    await node.media.hang_up_forwarded(space_id, account_id)
    return Response(status_code=204)


@router.websocket("/relay/{space_id}")
async def relay(ws: WebSocket, space_id: str) -> None:
    """The space's program, one binary message per Opus packet (services/relay.py), for as long
    as the space is mixed here and the other node listens."""
    node: Node = ws.app.state.node
    try:
        caller = _check_node(node, ws.headers.get("authorization"), relay_purpose(space_id))
    except RuleViolation:
        await ws.close(CLOSE_NOT_A_NODE)
        return
    try:
        # The other node going away ends the relay like the space's end does.
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await relay_program(node.media, space_id, caller, accept=ws.accept, send=ws.send_bytes)
    except RuleViolation as exc:
        # Not (or no longer) mixed here: the other node looks the home up again.
        log.info("space %s: no relay to node %s: %s", space_id, caller, exc.code)
        await ws.close(CLOSE_REFUSED, exc.code)
        return
    with contextlib.suppress(RuntimeError, OSError):
        await ws.close()
