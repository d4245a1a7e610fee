"""Bodies of the bot and token routes (the "automated" label is in `common`, on AccountOut)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from parley.api.schemas.common import AutomatedOut, Body, OwnerOut, Text


class NewBot(Body):
    handle: Text
    display_name: Text


class BotOut(BaseModel):
    id: str
    handle: str
    display_name: str
    state: str
    created_at: datetime
    automated: AutomatedOut


class NewToken(Body):
    name: Text
    scopes: Annotated[list[Text], Field(max_length=20)]
    # A handle of one of the caller's bots; none: a token for the caller's own account.
    bot: Text | None = None


class TokenOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    account: OwnerOut
    created_at: datetime
    last_used_at: datetime


class NewTokenOut(TokenOut):
    # The secret, shown this once: only its hash is kept.
    token: str
