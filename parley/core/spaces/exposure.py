"""Which spaces are shown to anyone who asks, signed in or not: their share page and their live
HLS (issue 10). Every space is public (DESIGN.md: listeners are unlimited, nothing is private),
so the only spaces withheld are those moderation took down.

A suspended host's spaces are withheld while the suspension lasts (404: they come back if it is
lifted), a deactivated host's for good (404 too: a deleted account's spaces go with it); a space
that moderation ended is gone for good (410), unless an appeal overturns a moderator's ending
it. The codes are stable.
"""

from __future__ import annotations

from parley.core.accounts import Account
from parley.core.errors import Gone, NotFound
from parley.core.spaces.model import Space, SpaceStatus

# A moderator ended this one space (or called it off), until an appeal overturns it.
MODERATED = "moderation"
MODERATION_OVERTURNED = "moderation_overturned"
# Why a space ended, as its `space_ended` event says, when moderation ended it.
MODERATION_END_REASONS = frozenset({"host_suspended", MODERATED})


def taken_down(space: Space) -> bool:
    """Whether moderation ended the space: gone for good, whatever becomes of its host (a
    moderator's own decision, until an appeal overturns it; a scheduled space they called off
    too, but not one called off by its host's suspension: that comes back with its host)."""
    if space.end_reason == MODERATED:
        return space.state in (SpaceStatus.ENDED, SpaceStatus.CANCELLED)
    return space.state is SpaceStatus.ENDED and space.end_reason in MODERATION_END_REASONS


def withheld(space: Space, host: Account | None) -> bool:
    """Whether the space may not be shown (`check_exposed` says why)."""
    return taken_down(space) or host is None or host.state.withdrawn


def check_exposed(space: Space, host: Account | None) -> None:
    """Raise unless the space may be shown publicly."""
    if taken_down(space):
        raise Gone("space_removed", "This space was ended by moderation")
    if host is None or host.state.withdrawn:
        raise NotFound("space_unavailable", "This space is not available")
