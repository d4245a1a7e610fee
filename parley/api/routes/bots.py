"""Automated accounts and API tokens: a person's bots, and the tokens they make for them and for
themselves. Only a signed-in session reaches these routes (no token may make tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from parley.api.deps import CallerDep, NodeDep
from parley.api.schemas.bots import BotOut, NewBot, NewToken, NewTokenOut, TokenOut
from parley.api.schemas.common import AutomatedOut, OwnerOut, from_record
from parley.core.accounts import Account
from parley.core.tokens import StoredToken
from parley.services.tokens import scope_values

router = APIRouter(tags=["bots"])


def _bot(bot: Account, owner: Account) -> BotOut:
    owned_by = AutomatedOut(owner=OwnerOut(id=owner.id, handle=owner.handle))
    return from_record(BotOut, bot, automated=owned_by)


def _token(token: StoredToken) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        scopes=scope_values(token.scopes),
        account=OwnerOut(id=token.account.id, handle=token.account.handle),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
    )


@router.post("/me/bots", status_code=201, response_model=BotOut)
async def create_bot(body: NewBot, caller: CallerDep, node: NodeDep) -> BotOut:
    """Register an automated account you answer for; it acts through tokens you make for it."""
    bot = await node.bots.create(caller, body.handle, body.display_name)
    return _bot(bot, caller.account)


@router.get("/me/bots", response_model=list[BotOut])
async def my_bots(caller: CallerDep, node: NodeDep) -> list[BotOut]:
    return [_bot(bot, caller.account) for bot in await node.bots.of(caller)]


@router.delete("/me/bots/{handle}", status_code=204)
async def delete_bot(handle: str, caller: CallerDep, node: NodeDep) -> Response:
    """Its tokens are revoked at once on every node (their sockets close) and its posts are
    no longer shown; its handle is not freed."""
    await node.bots.delete(caller, handle)
    return Response(status_code=204)


@router.post("/me/tokens", status_code=201, response_model=NewTokenOut)
async def create_token(body: NewToken, caller: CallerDep, node: NodeDep) -> NewTokenOut:
    """A token for one of your bots (`bot`) or for yourself, with the scopes it may use. The
    secret is in this answer only."""
    made = await node.tokens.create(caller, body.name, body.scopes, body.bot)
    return NewTokenOut(**_token(made.token).model_dump(), token=made.secret)


@router.get("/me/tokens", response_model=list[TokenOut])
async def my_tokens(caller: CallerDep, node: NodeDep) -> list[TokenOut]:
    """Your live tokens, your bots' included, with when each was last used."""
    return [_token(token) for token in await node.tokens.of(caller)]


@router.delete("/me/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: str, caller: CallerDep, node: NodeDep) -> Response:
    """Refused from the next request on, on every node; its sockets close."""
    await node.tokens.revoke(caller, token_id)
    return Response(status_code=204)
