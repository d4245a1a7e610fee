"""The per-space event stream: `GET /spaces/{id}/events` upgraded to a WebSocket.

The socket authenticates with an `Authorization: Bearer` header (other than browsers) or with
its first message, `{"type": "auth", "token": ...}`, sent within `socket_auth_seconds`: a token
never needs to be in the URL, where proxies and access logs would keep it. `?token=` still
works for older clients, and is deprecated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from parley.api.routes.spaces import owners_in
from parley.api.schemas.spaces import SpaceOut
from parley.bus.messages import encode
from parley.core.errors import RuleViolation, Unauthenticated
from parley.core.ratelimit import LimitName, RateLimited
from parley.core.spaces.events import Frame
from parley.core.spaces.join_tickets import JoinTicket
from parley.core.tokens import route_template
from parley.services.accounts import Caller
from parley.services.fanout import TooManySockets
from parley.services.feed import (
    CLOSE_REMOVED,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHORIZED,
    Client,
    Feed,
    pump,
)
from parley.services.node import Node

router = APIRouter(tags=["events"])
# Under the API prefix; the application also matches it itself, ahead of its routers.
PATH = "/spaces/{space_id}/events"

CLOSE_NOT_FOUND = 4404


def _token(ws: WebSocket) -> str | None:
    header = ws.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return ws.query_params.get("token")  # deprecated: tokens in URLs end up in logs


async def _authenticate(ws: WebSocket, node: Node) -> Caller | None:
    """The caller, from the header (or the deprecated query), else from the first message;
    None when the client went away first."""
    token = _token(ws)
    if token is None:
        try:
            async with asyncio.timeout(node.settings.socket_auth_seconds):
                message = await ws.receive()
        except TimeoutError:
            raise Unauthenticated("unauthenticated", "Send {type: auth, token} first") from None
        if message["type"] == "websocket.disconnect":
            return None
        token = _auth_message_token(message.get("text"))
    route = route_template(ws.url.path, ws.path_params)
    return await node.tokens.caller_for(token or "", "WS", route)


def _auth_message_token(text: str | None) -> str | None:
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "auth" and isinstance(data.get("token"), str):
        return str(data["token"])
    return None


def _batch(ws: WebSocket) -> bool:
    """`batch=1`: several waiting events may share one frame, as a JSON array in order."""
    return ws.query_params.get("batch") in ("1", "true")


def _since(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("since")
    if raw is None or not raw.isdigit() or len(raw) > 12:
        return None  # no usable cursor: start from a snapshot
    return int(raw)


async def events(ws: WebSocket) -> None:
    space_id: str = ws.path_params["space_id"]
    node: Node = ws.app.state.node
    await ws.accept()
    ticket: JoinTicket | None = None
    # Any socket counts towards presence, also one opened before a join or a rejoin: when the
    # join comes, the socket is what keeps them in.
    counted = False
    try:
        caller = await _authenticate(ws, node)
        if caller is None:
            return
        me = caller.account.id
        await node.limits.check(LimitName.SOCKETS_OPENED, me)
        # A socket that follows a join on this node was counted by it, and who it is was
        # settled there: no read, no write, unless the feed cannot vouch for what happened since.
        # Any other is read and counted with the sockets of its space arriving alongside it.
        ticket = node.joins.tickets.claim(space_id, me, node.clock.now())
        counted = ticket is not None or await node.joins.follow(space_id, me)
        client = Client(me, caller.session_id)
        # Refuses a space that does not exist, and an account over its sockets on this node.
        feed = await node.hub.attach(space_id, client)
    except RuleViolation as refusal:
        if counted:
            await node.presence.disconnected(space_id, me)
        await _refuse(ws, refusal)
        return
    try:
        if ticket is not None and not feed.vouches(me, ticket.seq):
            await node.spaces.follower(space_id, me)
        await _catch_up(ws, node, feed, client)
        sender = asyncio.create_task(pump(feed, client, ws.send_text, batch=_batch(ws)))
        receiver = asyncio.create_task(_drain(ws))
        done, pending = await asyncio.wait([sender, receiver], return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            if task is receiver and not task.cancelled():
                task.exception()  # the client going away is how the receiver ends: expected
        if sender in done and not sender.cancelled() and sender.exception() is None:
            code, reason = sender.result()
            with contextlib.suppress(Exception):
                if code == CLOSE_UNAUTHORIZED:
                    # The reason is a code (session_revoked, session_expired, ...): say it.
                    await ws.send_text(json.dumps({"type": Frame.ERROR.value, "code": reason}))
                await ws.close(code, reason)
    except RuleViolation as refusal:
        await _refuse(ws, refusal)
    except WebSocketDisconnect:
        pass
    finally:
        node.hub.detach(space_id, client)
        if counted:
            await node.presence.disconnected(space_id, me)


# A plain Starlette route: the socket of every join in a rush, and nothing for FastAPI's
# dependency solving to do (WebSockets are not in the OpenAPI description).
router.add_websocket_route(PATH, events)


async def _catch_up(ws: WebSocket, node: Node, feed: Feed, client: Client) -> None:
    """Replay what the client missed since its cursor, or give it a fresh snapshot."""
    space_id = feed.space_id
    since = _since(ws)
    missed = await node.spaces.events_after(space_id, since) if since is not None else None
    if missed is None:
        # Read after attaching to the feed: every event after this snapshot reaches the client.
        # In a join rush the feed has it already, as of its last event.
        view = feed.snapshot.view(feed.last_seq)
        if view is None:
            view = await node.spaces.view(space_id)
            feed.snapshot.remember(view, feed.last_seq)
        seq = view.space.seq
        text = feed.snapshot.text(seq)
        if text is None:
            owners = feed.snapshot.owners()
            if owners is None:
                owners = await owners_in(node, [view])
                feed.snapshot.keep_owners(owners)
            data = SpaceOut.of(view, owners).model_dump(mode="json")
            text = json.dumps({"type": Frame.SNAPSHOT.value, "seq": seq, "data": data})
            feed.snapshot.keep_text(seq, text)
        await ws.send_text(text)
        client.last_seq = seq
        return
    client.last_seq = since if since is not None else 0
    for event in missed:
        await ws.send_text(encode(event))
        client.last_seq = event.seq


async def _refuse(ws: WebSocket, refusal: RuleViolation) -> None:
    await ws.send_text(json.dumps({"type": Frame.ERROR.value, "code": refusal.code}))
    if refusal.code in ("removed_from_space", "blocked_by_host"):
        code = CLOSE_REMOVED
    elif isinstance(refusal, (TooManySockets, RateLimited)):
        code = CLOSE_TOO_MANY
    elif refusal.status in (401, 403):
        code = CLOSE_UNAUTHORIZED
    else:
        code = CLOSE_NOT_FOUND
    await ws.close(code, refusal.code)


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, to notice when it goes away."""
    while True:
        await ws.receive_text()
