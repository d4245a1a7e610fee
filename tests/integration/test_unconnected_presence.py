"""Being in a room takes a connection, an event socket or media: whoever joins and opens neither
is let go, a host who starts a space and never comes hands it on (or it ends), someone who
only holds media (a bot that only speaks) stays as long as it lasts, and so does one whose
socket was open before they joined. The node's clock is moved past the wait for a first
connection; the presence timeout and grace are the tests' short ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack
from datetime import timedelta

import pytest

from parley.store.db import Database
from tests.support import rows
from tests.support.audio import MediaClient
from tests.support.clients import Person
from tests.support.servers import ServerThread, serve, wait_until

CONNECT_WAIT = 10.0
PAST_THE_WAIT = timedelta(seconds=CONNECT_WAIT + 1)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, connect_wait_seconds=CONNECT_WAIT) as running:
        yield running


def count(server: ServerThread, sid: str, person: Person) -> int:
    return server.call(rows.connections(server.node.db, sid, person.id))


async def host_and_fan(server: ServerThread, title: str) -> tuple[Person, Person, str]:
    """A host and a fan, signed up, and the host's space, live."""
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    sid: str = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
    return host, fan, sid


async def listener_count(person: Person, sid: str) -> int:
    count: int = (await person.call("GET", f"/spaces/{sid}", 200))["listener_count"]
    return count


async def test_someone_who_joins_and_never_connects_is_let_go(server: ServerThread) -> None:
    host, fan, sid = await host_and_fan(server, "Ghosts")
    async with host.events(sid) as watching:
        await watching.wait_for("snapshot")
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        assert await listener_count(host, sid) == 1
        server.node.clock.ahead = PAST_THE_WAIT
        left = await watching.wait_for("participant_left", timeout=10)
        assert (left["data"]["handle"], left["data"]["reason"]) == (fan.handle, "dropped")
        assert await listener_count(host, sid) == 0
        # The host's socket holds them: still hosting.
        assert "host_absent" not in watching.types()
    for person in (host, fan):
        await person.close()


async def test_a_socket_opened_before_the_join_keeps_its_owner_in(server: ServerThread) -> None:
    host, fan, sid = await host_and_fan(server, "Early")
    async with host.events(sid) as watching, fan.events(sid) as own:
        await watching.wait_for("snapshot")
        await own.wait_for("snapshot")  # watching before joining, as a client may
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        assert count(server, sid, fan) == 2  # the open socket, and the join's (its ticket)
        server.node.clock.ahead = PAST_THE_WAIT
        await wait_until(lambda: count(server, sid, fan) == 1)  # the ticket's, handed back
        server.node.clock.ahead += timedelta(seconds=60)
        server.call(server.node.presence.sweep())
        assert await listener_count(host, sid) == 1
        assert "participant_left" not in watching.types()
    await wait_until(lambda: count(server, sid, fan) == 0)
    for person in (host, fan):
        await person.close()


async def test_a_host_who_starts_a_space_and_never_comes_hands_it_on(
    server: ServerThread,
) -> None:
    host, cohost, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "co", "fan")]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Nobody home"}))["id"]
    await cohost.call("POST", f"/spaces/{sid}/join", 200)
    await host.call("POST", f"/spaces/{sid}/cohosts/{cohost.handle}", 204)
    async with cohost.events(sid) as co, fan.events(sid) as watching:
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        await watching.wait_for("snapshot")
        await co.wait_for("snapshot")
        assert (await fan.call("GET", f"/spaces/{sid}", 200))["host_present"] is True
        server.node.clock.ahead = PAST_THE_WAIT
        absent = await watching.wait_for("host_absent", timeout=10)
        assert absent["data"]["handle"] == host.handle
        changed = await watching.wait_for("host_changed", timeout=10)
        assert changed["data"]["handle"] == cohost.handle
        shown = await fan.call("GET", f"/spaces/{sid}", 200)
        assert shown["host"]["handle"] == cohost.handle and shown["state"] == "live"
    for person in (host, cohost, fan):
        await person.close()


async def test_a_space_whose_host_never_comes_ends(server: ServerThread) -> None:
    host, fan, sid = await host_and_fan(server, "Nobody home")
    async with fan.events(sid) as watching:
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        await watching.wait_for("snapshot")
        server.node.clock.ahead = PAST_THE_WAIT
        ended = await watching.wait_for("space_ended", timeout=10)
        assert ended["data"]["reason"] == "host_left"
    assert (await fan.call("GET", f"/spaces/{sid}", 200))["state"] == "ended"
    for person in (host, fan):
        await person.close()


async def test_a_media_connection_keeps_someone_in_until_it_closes(server: ServerThread) -> None:
    host, fan, sid = await host_and_fan(server, "Ears only")
    async with host.events(sid) as watching:
        await watching.wait_for("snapshot")
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        media = await MediaClient.connect(fan, sid)
        try:
            # The join's (its ticket) and the media's, which the node's media-presence writer
            # counts in the background, a moment after the answer (a loaded run once read 1).
            await wait_until(lambda: count(server, sid, fan) == 2)
            # Past the wait: the join's count is handed back, the media's holds them in past
            # the presence timeout, on a sweep run here (nothing left to chance of timing).
            server.node.clock.ahead = PAST_THE_WAIT
            await wait_until(lambda: count(server, sid, fan) == 1)
            server.node.clock.ahead += timedelta(seconds=60)
            server.call(server.node.presence.sweep())
            assert await listener_count(host, sid) == 1
            assert "participant_left" not in watching.types()
            await fan.call("DELETE", f"/spaces/{sid}/media", 204)
            left = await watching.wait_for("participant_left", timeout=10)
            assert (left["data"]["handle"], left["data"]["reason"]) == (fan.handle, "dropped")
        finally:
            await media.close()
    for person in (host, fan):
        await person.close()


async def test_a_node_that_stops_takes_back_the_counts_of_its_connections(
    database_url: str,
) -> None:
    """Stopped (SIGTERM, a deploy), the node closes its sockets and media and takes their
    counts back itself, rather than leaving them for another node to release once it is seen
    gone: whoever comes back through another node is counted once."""
    node = ExitStack()
    server = node.enter_context(serve(database_url=database_url))
    host, fan, sid = await host_and_fan(server, "Closing")
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with fan.events(sid) as own:
        await own.wait_for("snapshot")
        media = await MediaClient.connect(fan, sid)
        await wait_until(lambda: count(server, sid, fan) == 2)  # the socket and the media
        node.close()  # the node stops with both open
        await own.wait_closed()
    db = Database(database_url)
    try:
        assert await rows.connections(db, sid, fan.id) == 0
    finally:
        await db.close()
    await media.close()
    for person in (host, fan):
        await person.close()
