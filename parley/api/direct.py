"""Routes on a join rush's path, answered without FastAPI's dependency solving.

FastAPI resolves an endpoint's parameters (the node, the bearer token, the caller, a limit)
through its dependency graph on every request, about 5 % of a join rush's server CPU. A route
declared with `served_by(handler)` keeps its FastAPI declaration, so /openapi.json describes it
as before (security, parameters, response model), while `handler` answers its requests: it
finds the caller and counts the limit as `deps` does, in the same order, and calls the same
endpoint function.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from parley.api.deps import client_address
from parley.core.errors import Unauthenticated
from parley.core.ratelimit import KeyKind, LimitName
from parley.core.tokens import route_template
from parley.services.accounts import Caller
from parley.services.node import Node

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def served_by(handler: Handler) -> type[APIRoute]:
    """A route class whose requests `handler` answers; FastAPI still documents the route."""

    class Direct(APIRoute):
        def get_route_handler(self) -> Handler:
            return handler

    return Direct


def node_of(connection: HTTPConnection) -> Node:
    node: Node = connection.app.state.node
    return node


def bearer_token(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer` header, read as FastAPI's HTTPBearer reads it."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if not scheme or not token or scheme.lower() != "bearer":
        return None
    return token


async def caller_acting(request: Request, node: Node, limit: LimitName) -> Caller:
    """The signed-in caller, counted against `limit` (deps.require_caller and deps.limit)."""
    token = bearer_token(request.headers)
    caller = None
    if token is not None:
        route = route_template(request.url.path, request.path_params)
        caller = await node.tokens.caller_for(token, request.method, route)
    if node.limits.table[limit].by is not KeyKind.ACCOUNT:
        await node.limits.check(limit, client_address(request))
    elif caller is not None:
        await node.limits.check(limit, caller.account.id)
    if caller is None:
        raise Unauthenticated("unauthenticated", "Sign in: this needs a bearer token")
    return caller
