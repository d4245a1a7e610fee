"""A rush of joins: the stage hears every join, a large audience hears them as a few counts, a
small one each of them, and the count everyone ends with is exact."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from parley.services.feed import AUDIENCE_MIN_SECONDS
from tests.support.clients import Person
from tests.support.metrics import scraped
from tests.support.servers import ServerThread, serve, wait_until

RUSH = 40


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    # A test's few sockets stand for a large audience: any audience is large here.
    with serve(database_url=database_url, exact_audience_sockets=0) as running:
        yield running


def last_count(messages: list[dict[str, object]]) -> object:
    counts = [m["data"] for m in messages if isinstance(m.get("data"), dict)]
    counts = [d["listener_count"] for d in counts if "listener_count" in d]  # type: ignore[index,operator]
    return counts[-1] if counts else None


async def test_a_large_audience_hears_a_rush_of_joins_as_a_few_exact_counts(
    server: ServerThread,
) -> None:
    host, fan, *crowd = [
        await Person.sign_up(server.base_url, h)
        for h in ["host", "fan"] + [f"p{i}" for i in range(RUSH)]
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Rush"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with host.events(sid) as stage, fan.events(sid) as audience:
        await stage.wait_for("snapshot")
        await audience.wait_for("snapshot")
        started = time.monotonic()
        await asyncio.gather(*(p.call("POST", f"/spaces/{sid}/join", 200) for p in crowd))
        rush = time.monotonic() - started
        final = RUSH + 1
        # The stage: every join, one by one.
        await wait_until(lambda: stage.types().count("participant_joined") == RUSH)
        # The audience: the exact count in the end...
        await wait_until(lambda: last_count(audience.events) == final)
        heard = [e for e in audience.events if "listener_count" in e.get("data", {})]
        # ...from fewer messages than there were joins: at most one per audience interval
        # (however fast this machine let the joins come), and the first at once.
        assert len(heard) < RUSH, [e["type"] for e in heard]
        assert len(heard) <= rush / AUDIENCE_MIN_SECONDS + 2, (len(heard), rush)
        assert "listener_count" in audience.types()
        # Their sequence numbers only go up: a count stands for every join up to its seq.
        seqs = [e["seq"] for e in audience.events]
        assert seqs == sorted(set(seqs))
    assert (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"] == final
    for person in (host, fan, *crowd):
        await person.close()


async def test_in_a_rush_each_refusal_is_its_own_and_the_others_get_in(
    server: ServerThread,
) -> None:
    """Joins that arrive together are decided in one transaction (services/batches.py): a
    refused joiner among them must neither take the others down nor slip in with them."""
    host, removed, blocked, *crowd = [
        await Person.sign_up(server.base_url, h)
        for h in ["host", "removed", "blocked"] + [f"q{i}" for i in range(RUSH)]
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Door"}))["id"]
    await removed.call("POST", f"/spaces/{sid}/join", 200)
    await host.call("POST", f"/spaces/{sid}/remove/{removed.handle}", 204)
    await host.call("POST", f"/accounts/{blocked.handle}/block", 204)
    half = RUSH // 2
    # Tokens this node has not seen are looked up together too: a bad one is refused alone.
    stranger = Person(server.base_url, "stranger", "not-a-token", {})
    outcomes = await asyncio.gather(
        *(p.call("POST", f"/spaces/{sid}/join", 200) for p in crowd[:half]),
        removed.call("POST", f"/spaces/{sid}/join", 403),
        blocked.call("POST", f"/spaces/{sid}/join", 403),
        stranger.call("POST", f"/spaces/{sid}/join", 401),
        *(p.call("POST", f"/spaces/{sid}/join", 200) for p in crowd[half:]),
    )
    refusals = outcomes[half : half + 3]
    assert [r["code"] for r in refusals] == [
        "removed_from_space",
        "blocked_by_host",
        "invalid_token",
    ]
    joined = [o["handle"] for o in outcomes[:half] + outcomes[half + 3 :]]
    assert joined == [p.handle for p in crowd]
    space = await host.call("GET", f"/spaces/{sid}", 200)
    assert space["listener_count"] == RUSH
    # They came together, and shared transactions.
    figures = await scraped(server)
    assert figures["parley_joins_total"] == RUSH + 3
    assert figures["parley_join_transactions_total"] < RUSH
    listeners = await host.call("GET", f"/spaces/{sid}/listeners?limit=500", 200)
    assert {p["handle"] for p in listeners} == {p.handle for p in crowd}
    for person in (host, removed, blocked, stranger, *crowd):
        await person.close()


async def test_a_small_room_lists_each_listener_who_came_and_went_however_close_together() -> None:
    """Two people join a small room a moment apart: a listener already there is told of each
    (its list of listeners is built from these events), not of a count that says neither who
    came nor who asks to speak."""
    with serve() as server:
        host, early, first, second = [
            await Person.sign_up(server.base_url, h) for h in ["host", "early", "first", "second"]
        ]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Small"}))["id"]
        await early.call("POST", f"/spaces/{sid}/join", 200)
        async with early.events(sid) as room:
            await room.wait_for("snapshot")
            await first.call("POST", f"/spaces/{sid}/join", 200)
            await second.call("POST", f"/spaces/{sid}/join", 200)
            await second.call("POST", f"/spaces/{sid}/hand", 204)
            await first.call("POST", f"/spaces/{sid}/leave", 204)
            await room.wait_for("participant_left", handle=first.handle)
        assert "listener_count" not in room.types()
        came_and_went = [
            (e["type"], e["data"]["handle"]) for e in room.events if e["type"] != "hand_changed"
        ]
        assert came_and_went == [
            ("participant_joined", first.handle),
            ("participant_joined", second.handle),
            ("participant_left", first.handle),
        ]
        for person in (host, early, first, second):
            await person.close()
