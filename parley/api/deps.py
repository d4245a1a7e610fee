"""What routes get injected: the node, the caller behind the bearer token, and the size of a
page of a listing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parley.core.errors import Unauthenticated
from parley.core.ratelimit import KeyKind, LimitName
from parley.core.ratelimit import client_address as address_of
from parley.core.tokens import is_api_token, route_template
from parley.services.accounts import Caller
from parley.services.node import Node

_bearer = HTTPBearer(auto_error=False, description="A token from POST /sessions")


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


async def optional_caller(
    request: Request,
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    if credentials is None:
        return None
    # An API token may use only the routes its scopes name (core.tokens.ROUTE_SCOPES).
    route = route_template(request.url.path, request.path_params)
    return await node.tokens.caller_for(credentials.credentials, request.method, route)


async def require_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise Unauthenticated("unauthenticated", "Sign in: this needs a bearer token")
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]
MaybeCallerDep = Annotated[Caller | None, Depends(optional_caller)]


async def require_appeal_caller(
    request: Request,
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, who may be a suspended account using the token its refused sign-in gave it:
    only for reading its notices and appealing. An API token is held to its scopes here as
    anywhere (a bot reads its notices with `account:read`; no token appeals)."""
    if credentials is None:
        raise Unauthenticated("unauthenticated", "Sign in: this needs a bearer token")
    if is_api_token(credentials.credentials):
        route = route_template(request.url.path, request.path_params)
        return await node.tokens.caller_for(credentials.credentials, request.method, route)
    return await node.accounts.authenticate(credentials.credentials, for_appeal=True)


AppealCallerDep = Annotated[Caller, Depends(require_appeal_caller)]

# How many items a listing returns at most (`?limit=`), where it pages by 200 at the most.
PageLimit = Annotated[int, Query(ge=1, le=200)]


def client_address(request: Request) -> str:
    """The address a request counts under for per-address limits (core.ratelimit)."""
    node: Node = request.app.state.node
    peer = request.client.host if request.client else None
    return address_of(
        peer, request.headers.getlist("x-forwarded-for"), node.settings.trusted_proxies
    )


def limit(name: LimitName) -> Any:
    """A route dependency counting the request against limit `name` (429 once over it), by
    the signed-in account or the client's address as the limit says."""

    async def check(request: Request, node: NodeDep, caller: MaybeCallerDep) -> None:
        match node.limits.table[name].by:
            case KeyKind.ACCOUNT if caller is not None:
                key = caller.account.id
            case KeyKind.ACCOUNT:
                return  # not signed in: the route answers 401 on its own
            case _:
                key = client_address(request)
        await node.limits.check(name, key)

    return Depends(check)
