"""A join counts the event socket that follows it; a socket that never comes is not counted
for long, and a participant who never opens one is away from then."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from parley.services import joins
from tests.support import rows
from tests.support.clients import Person
from tests.support.servers import ServerThread, serve, wait_until

HOUR = 3600.0


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    # Tickets live their production time (the clock is moved past it); nobody away is let go
    # before the clock says so.
    settings = {"presence_timeout_seconds": HOUR, "host_grace_seconds": HOUR}
    with serve(database_url=database_url, connect_wait_seconds=10, **settings) as running:
        yield running


def connections(server: ServerThread, sid: str, person: Person) -> int:
    return server.call(rows.connections(server.node.db, sid, person.id))


async def test_the_socket_after_a_join_is_counted_once_and_uncounted_when_it_closes(
    server: ServerThread,
) -> None:
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tickets"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    assert connections(server, sid, fan) == 1  # counted by the join
    async with fan.events(sid) as stream:
        await stream.wait_for("snapshot")
        assert connections(server, sid, fan) == 1  # the socket claimed it: not twice
        assert len(server.node.joins.tickets) == 1  # the host's: their socket has not come
    await wait_until(lambda: connections(server, sid, fan) == 0)
    for person in (host, fan):
        await person.close()


async def test_a_join_whose_socket_never_comes_gives_its_count_back(server: ServerThread) -> None:
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tickets"}))["id"]
    async with host.events(sid) as watching:
        await watching.wait_for("snapshot")
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        assert connections(server, sid, fan) == 1
        server.node.clock.ahead = timedelta(seconds=11)  # past the ticket's time
        await wait_until(lambda: connections(server, sid, fan) == 0)
        view = await host.call("GET", f"/spaces/{sid}", 200)
        assert view["listener_count"] == 1
        # Away since the ticket went back, as if a socket had closed then: let go after the
        # presence timeout. The host, whose socket is open, stays.
        server.node.clock.ahead = timedelta(seconds=11 + HOUR + 1)
        left = await watching.wait_for("participant_left", timeout=5)
        assert (left["data"]["handle"], left["data"]["reason"]) == (fan.handle, "dropped")
        assert "host_absent" not in watching.types()
    for person in (host, fan):
        await person.close()


async def test_expired_tickets_are_handed_back_together_and_a_claimed_one_is_kept(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(joins, "HAND_BACK_CHUNK", 2)  # three tickets: two transactions
    host = await Person.sign_up(server.base_url, "host")
    fans = [await Person.sign_up(server.base_url, f"fan{i}") for i in range(4)]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tickets"}))["id"]
    for fan in fans:
        await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with fans[0].events(sid) as stream:
        await stream.wait_for("snapshot")
        server.node.clock.ahead = timedelta(seconds=11)
        await wait_until(lambda: [connections(server, sid, f) for f in fans] == [1, 0, 0, 0])
        assert len(server.node.joins.tickets) == 0
    for person in (host, *fans):
        await person.close()


async def test_sockets_without_a_ticket_are_counted_together_and_refused_alone(
    server: ServerThread,
) -> None:
    """Sockets with no ticket here (as on a sibling worker of their join's) share a read and a
    write: each is counted once per socket, a removed participant is refused, and someone who
    never joined is let watch without being counted."""
    host = await Person.sign_up(server.base_url, "host")
    fans = [await Person.sign_up(server.base_url, f"fan{i}") for i in range(3)]
    watcher = await Person.sign_up(server.base_url, "watcher")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tickets"}))["id"]
    for fan in fans:
        await fan.call("POST", f"/spaces/{sid}/join", 200)
    await host.call("POST", f"/spaces/{sid}/remove/fan2", 204)
    server.node.clock.ahead = timedelta(seconds=11)  # every ticket handed back
    # Tickets leave the node's list before their hand-back commits (PostgreSQL: a while).
    await wait_until(lambda: len(server.node.joins.tickets) == 0)
    await wait_until(lambda: [connections(server, sid, f) for f in fans] == [0, 0, 0])
    followed = server.node.joins.followers.requests_run
    streams = [fans[0].events(sid), fans[0].events(sid), fans[1].events(sid)]
    removed, watching = fans[2].events(sid), watcher.events(sid)
    opened = [s.__aenter__() for s in (*streams, removed, watching)]
    await asyncio.gather(*opened)
    try:
        for stream in (*streams, watching):
            await stream.wait_for("snapshot")
        error = await removed.wait_for("error")
        assert error["code"] == "removed_from_space"
        assert [connections(server, sid, f) for f in fans] == [2, 1, 0]
        assert server.node.joins.followers.requests_run - followed == 5
    finally:
        for stream in (*streams, removed, watching):
            await stream.__aexit__(None, None, None)
    await wait_until(lambda: [connections(server, sid, f) for f in fans] == [0, 0, 0])
    for person in (host, watcher, *fans):
        await person.close()
