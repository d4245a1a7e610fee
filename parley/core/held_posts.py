"""Held posts: a post whose place the location policy says is too recent, kept back at its
author's request and published by the node's sweep once the policy allows (core.location).

An author who did not ask gets the refusal (422 `location_too_recent`) instead: a post that
appears a day late without its author knowing would surprise them more than a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parley.core.location import Place

# More would be a queue of live positions waiting out the policy, not a few late posts.
MAX_HELD_PER_AUTHOR = 100
# Published per sweep and transaction: a backlog drains over a few sweeps, never in one lock.
PUBLISH_BATCH = 100


class WhenTooRecent(StrEnum):
    """What the author wants done with a post whose place is too recent to publish."""

    REFUSE = "refuse"
    HOLD = "hold"


@dataclass(frozen=True)
class HeldPost:
    id: str  # the post's id once published
    author_id: str
    text: str
    place: Place
    created_at: datetime
    publish_at: datetime
    rule: str  # the policy's rule that held it back
    space_id: str | None = None  # the space it shares, as Post.space_id
