"""A stage member's offer that reached a node other than the space's home is passed on to the
home (services/placement.py), and the home's refusal comes back to the client as the home said
it: its code, its title, and for a 503 when to try again (a draining home: 1 s)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import cast

import httpx
import pytest

from parley.core.errors import Conflict, Unavailable
from parley.core.homing import Home
from parley.services.homing import Homing
from parley.services.placement import RoomPlacement
from parley.services.spaces import SpaceService

HOME = Home("s1", "a", "http://node-a", datetime(2026, 12, 7, tzinfo=UTC), 1)


def placement_answered_by(status: int, body: dict[str, object]) -> RoomPlacement:
    def home(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://node-a/internal/v1/spaces/s1/media"
        assert request.headers["authorization"] == "Node offer"
        return httpx.Response(status, json=body)

    homing = cast(
        Homing, SimpleNamespace(authorization=lambda purpose: {"authorization": "Node " + purpose})
    )
    return RoomPlacement(
        homing, cast(SpaceService, None), None, transport=httpx.MockTransport(home)
    )


async def test_the_homes_answer_is_passed_back() -> None:
    placement = placement_answered_by(200, {"sdp": "v=0 answer"})
    assert await placement.forward_offer(HOME, "s1", "ada", "sess", "v=0 offer") == "v=0 answer"
    await placement.close()


async def test_a_draining_homes_refusal_says_when_to_offer_again() -> None:
    refusal = {"code": "node_draining", "title": "Shutting down", "status": 503, "retry_after": 1}
    placement = placement_answered_by(503, refusal)
    with pytest.raises(Unavailable) as refused:
        await placement.forward_offer(HOME, "s1", "ada", "sess", "v=0 offer")
    assert (refused.value.code, refused.value.retry_after) == ("node_draining", 1)
    await placement.close()


async def test_a_refusal_keeps_its_kind_and_code() -> None:
    placement = placement_answered_by(409, {"code": "not_home", "title": "Not the home"})
    with pytest.raises(Conflict) as refused:
        await placement.forward_offer(HOME, "s1", "ada", "sess", "v=0 offer")
    assert str(refused.value.code) == "not_home"
    await placement.close()
