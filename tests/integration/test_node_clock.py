"""The node reads the time from one clock, which a test can move: what the timers decide follows
the clock, not the wall, so a test of an hour's grace period takes a second."""

from __future__ import annotations

from datetime import timedelta

from tests.support.clients import Person
from tests.support.servers import serve

HOUR = 3600.0


async def test_moving_the_node_clock_hands_a_space_over_without_waiting(database_url: str) -> None:
    # An hour's presence timeout and grace period: without the clock moving, nothing below
    # would happen within the test's time limits.
    settings = {"host_grace_seconds": HOUR, "presence_timeout_seconds": HOUR}
    with serve(database_url=database_url, **settings) as server:
        host, cohost, watcher = [
            await Person.sign_up(server.base_url, h) for h in ("host", "cohost", "watcher")
        ]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Timed"}))["id"]
        for person in (cohost, watcher):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await host.call("POST", f"/spaces/{sid}/cohosts/cohost", 204)

        async with watcher.events(sid) as stream:
            await stream.wait_for("snapshot")
            async with host.events(sid) as own:
                await own.wait_for("snapshot")
            # The host's only socket is gone: a few seconds later (by the node's clock) the
            # audience is told the host is away.
            server.node.clock.advance(timedelta(seconds=10))
            await stream.wait_for("host_absent", timeout=5)
            shown = await watcher.call("GET", f"/spaces/{sid}", 200)
            assert shown["host"]["handle"] == "host"  # the hour's grace has not run out

            server.node.clock.advance(timedelta(seconds=HOUR + 1))
            changed = await stream.wait_for("host_changed", timeout=5)
            assert changed["data"]["handle"] == "cohost"

        after = await watcher.call("GET", f"/spaces/{sid}", 200)
        assert after["host"]["handle"] == "cohost"
        for person in (host, cohost, watcher):
            await person.close()
