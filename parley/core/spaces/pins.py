"""Posts pinned to a space: above the stage for everyone in the room, chosen by those who run it
(the permission table's `pin`). A few at most, the latest first; a post's links are checked again
when it is pinned and at every click (the redirector), like any user content."""

from __future__ import annotations

from parley.core.errors import Conflict, NotFound

PIN_LIMIT = 3


def pinned_with(
    pinned: tuple[str, ...], post_id: str, gone: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The pins once `post_id` is pinned: first, moved there if it was pinned already. Pins in
    `gone` (posts nobody is shown any more: deleted, or their author's) give their slots up."""
    rest = tuple(p for p in pinned if p != post_id and p not in gone)
    if len(rest) >= PIN_LIMIT:
        raise Conflict(
            "too_many_pins", f"At most {PIN_LIMIT} posts are pinned at once: unpin one first"
        )
    return (post_id, *rest)


def pinned_without(pinned: tuple[str, ...], post_id: str) -> tuple[str, ...]:
    if post_id not in pinned:
        raise NotFound("pin_not_found", "That post is not pinned to this space")
    return tuple(p for p in pinned if p != post_id)
