"""Presence: a participant whose sockets are all gone is let go after the presence timeout, and
one who comes back stays, whether they rejoin before or after reopening their socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.clients import Person
from tests.support.metrics import scraped
from tests.support.servers import ServerThread, serve, wait_until


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    # Half the tests' usual timeout: each check that someone was *not* let go has to wait it
    # out, and the margin after it (SETTLE) is still ten sweeps.
    with serve(database_url=database_url, presence_timeout_seconds=0.5) as running:
        yield running


SETTLE = 1.0


async def listeners(host: Person, sid: str) -> int:
    count: int = (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"]
    return count


async def test_a_dropped_listener_who_rejoins_is_not_dropped_again(server: ServerThread) -> None:
    timeout = server.settings.presence_timeout_seconds
    host = await Person.sign_up(server.base_url, "host")
    fan = await Person.sign_up(server.base_url, "fan")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Presence"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with host.events(sid) as watching:
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
        # The socket is gone: after the timeout the fan is let go.
        left = await watching.wait_for("participant_left", timeout=timeout + 3)
        assert left["data"]["reason"] == "dropped"
        assert await listeners(host, sid) == 0

        # Back, joining first and opening the socket later (what a page does on reconnect).
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        await asyncio.sleep(timeout + SETTLE)
        assert await listeners(host, sid) == 1
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
            await asyncio.sleep(timeout + SETTLE)
            assert await listeners(host, sid) == 1

        # Dropped again, then the socket first and the rejoin after: the open socket counts.
        async with asyncio.timeout(timeout + 3):
            while watching.types().count("participant_left") < 2:
                await asyncio.sleep(0.05)
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
            await fan.call("POST", f"/spaces/{sid}/join", 200)
            await asyncio.sleep(timeout + SETTLE)
            assert await listeners(host, sid) == 1
    for person in (host, fan):
        await person.close()


async def test_the_node_counts_its_sweeps_for_its_operator(server: ServerThread) -> None:
    """Presence, lapsed limits, held posts and the rest move on only while the sweeper runs:
    /metrics counts its sweeps, so a stuck one shows as a flat line."""
    first = (await scraped(server))["parley_sweeps_total"]

    async def moved_on() -> bool:
        return (await scraped(server))["parley_sweeps_total"] >= first + 3

    await wait_until(moved_on, timeout=10)
