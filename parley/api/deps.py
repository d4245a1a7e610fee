"""What routes get injected: the node, and the caller behind the bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from parley.core.errors import Unauthenticated
from parley.services.accounts import Caller
from parley.services.node import Node

_bearer = HTTPBearer(auto_error=False, description="A token from POST /sessions")


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


async def optional_caller(
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    if credentials is None:
        return None
    return await node.accounts.authenticate(credentials.credentials)


async def require_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise Unauthenticated("unauthenticated", "Sign in: this needs a bearer token")
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]
MaybeCallerDep = Annotated[Caller | None, Depends(optional_caller)]


async def require_appeal_caller(
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, who may be a suspended account using the token its refused sign-in gave it:
    only for reading its notices and appealing."""
    if credentials is None:
        raise Unauthenticated("unauthenticated", "Sign in: this needs a bearer token")
    return await node.accounts.authenticate(credentials.credentials, for_appeal=True)


AppealCallerDep = Annotated[Caller, Depends(require_appeal_caller)]
