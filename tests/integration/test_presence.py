"""Presence: a participant whose sockets are all gone is let go after the presence timeout, and
one who comes back stays, whether they rejoin before or after reopening their socket. The node's
clock is moved past the timeout, and a sweep run, rather than waiting the timeout out."""

from __future__ import annotations

from datetime import timedelta

from tests.support import rows
from tests.support.clients import Person
from tests.support.metrics import scraped
from tests.support.servers import ServerThread, wait_until


async def listeners(host: Person, sid: str) -> int:
    count: int = (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"]
    return count


async def gone(server: ServerThread, sid: str, person: Person) -> None:
    """Until the node has taken in that the person's last connection closed: the clock moves
    from then on."""
    await wait_until(lambda: server.call(rows.connections(server.node.db, sid, person.id)) == 0)


def past_the_timeout(server: ServerThread, times: float = 1.0) -> None:
    """The node's clock `times` presence timeouts (and a second) on, and a sweep run at it."""
    timeout = server.settings.presence_timeout_seconds
    server.node.clock.advance(timedelta(seconds=times * timeout + 1))
    server.call(server.node.presence.sweep())


async def test_a_dropped_listener_who_rejoins_is_not_dropped_again(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    fan = await Person.sign_up(server.base_url, "fan")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Presence"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with host.events(sid) as watching:
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
        # The socket is gone: after the timeout the fan is let go.
        await gone(server, sid, fan)
        past_the_timeout(server)
        left = await watching.wait_for("participant_left", timeout=5)
        assert left["data"]["reason"] == "dropped"
        assert await listeners(host, sid) == 0

        # Back, joining first and opening the socket later (what a page does on reconnect):
        # the join holds them until a connection comes (connect_wait_seconds), whatever their
        # socket's end left behind.
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        past_the_timeout(server, times=10)
        assert await listeners(host, sid) == 1
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
            past_the_timeout(server, times=10)
            assert await listeners(host, sid) == 1

        # Dropped again, then the socket first and the rejoin after: the open socket counts.
        await gone(server, sid, fan)
        past_the_timeout(server)
        await wait_until(lambda: watching.types().count("participant_left") == 2)
        async with fan.events(sid) as stream:
            await stream.wait_for("snapshot")
            await fan.call("POST", f"/spaces/{sid}/join", 200)
            past_the_timeout(server, times=10)
            assert await listeners(host, sid) == 1
        assert watching.types().count("participant_left") == 2
    for person in (host, fan):
        await person.close()


async def test_the_node_counts_its_sweeps_for_its_operator(server: ServerThread) -> None:
    """Presence, lapsed limits, held posts and the rest move on only while the sweeper runs:
    /metrics counts its sweeps, so a stuck one shows as a flat line."""
    first = (await scraped(server))["parley_sweeps_total"]

    async def moved_on() -> bool:
        return (await scraped(server))["parley_sweeps_total"] >= first + 3

    await wait_until(moved_on, timeout=10)
