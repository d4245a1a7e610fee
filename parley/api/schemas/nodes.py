"""Bodies that pass between nodes of one deployment (issue 12); not part of the public API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from parley.api.schemas.common import Body, storable_text

Id = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(storable_text)]


class ForwardedOffer(Body):
    """A stage member's offer that reached another node, passed on to the space's home."""

    sdp: Annotated[str, Field(max_length=100_000), AfterValidator(storable_text)]
    account_id: Id
    session_id: Id


class ForwardedAnswer(BaseModel):
    sdp: str
