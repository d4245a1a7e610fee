"""Every stage move on a person is decided in core and reachable over HTTP: a move added to the
enum without its decision would answer 500, and one without a route nobody could make."""

from __future__ import annotations

from parley.api.routes.spaces import ON_PERSON
from parley.services.spaces import _PERSON_MOVES, PersonMove


def test_every_move_has_a_decision() -> None:
    assert set(_PERSON_MOVES) == set(PersonMove)


def test_every_move_has_one_route() -> None:
    moves = [move for _method, _path, move in ON_PERSON]
    assert sorted(moves) == sorted(PersonMove)
