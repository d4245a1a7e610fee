"""The pin list's own rules: the latest first, a post pinned again moves up, a few at most."""

from __future__ import annotations

import pytest

from parley.core.errors import Conflict, NotFound
from parley.core.spaces.pins import PIN_LIMIT, pinned_with, pinned_without


def test_a_new_pin_comes_first_and_one_pinned_again_moves_up() -> None:
    assert pinned_with((), "a") == ("a",)
    assert pinned_with(("a",), "b") == ("b", "a")
    assert pinned_with(("b", "a"), "a") == ("a", "b")


def test_a_full_list_takes_no_new_pin_but_still_reorders() -> None:
    full = tuple(f"p{i}" for i in range(PIN_LIMIT))
    with pytest.raises(Conflict) as refused:
        pinned_with(full, "new")
    assert refused.value.code == "too_many_pins"
    assert pinned_with(full, full[-1]) == (full[-1], *full[:-1])


def test_unpinning_removes_only_that_post_and_refuses_one_not_pinned() -> None:
    assert pinned_without(("a", "b", "c"), "b") == ("a", "c")
    with pytest.raises(NotFound) as refused:
        pinned_without(("a",), "b")
    assert refused.value.code == "pin_not_found"


def test_pins_nobody_is_shown_any_more_give_their_slots_up() -> None:
    full = tuple(f"p{i}" for i in range(PIN_LIMIT))
    assert pinned_with(full, "new", gone=frozenset({full[1]})) == ("new", full[0], *full[2:])
    # Only those gone: one pinned since (not known gone) keeps its place.
    assert pinned_with(("since", "old"), "new", gone=frozenset({"old"})) == ("new", "since")
