"""A node killed with its event sockets open never closes them: a surviving node, seeing it no
longer advertise itself, takes its sockets back from the participants (store/connections.py).
Who came back through another node stays, counted once; who did not leaves after the presence
timeout. Real `parley serve` processes on PostgreSQL and Redis."""

from __future__ import annotations

import time

import pytest

from tests.support.clients import Person
from tests.support.cluster import cluster, kill, people

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_the_sockets_of_a_killed_node_are_taken_back_from_who_was_here() -> None:
    # A dead node is gone after two leases (4 s); its participants then leave after 3 s more.
    env = {"PARLEY_HOME_LEASE_SECONDS": "2", "PARLEY_PRESENCE_TIMEOUT_SECONDS": "3"}
    async with cluster(3, **env) as deployment:
        a, b, c = deployment.nodes
        (host,) = await people(b, "host")
        gone, back = await people(a, "gone", "back")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Who is here"}))["id"]
        for person in (gone, back):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        watching = await host.events(sid).__aenter__()
        on_a = [await p.events(sid).__aenter__() for p in (gone, back)]
        again = Person(c.base, back.handle, back.token, back.account)
        try:
            await watching.wait_for("snapshot")
            for stream in on_a:
                await stream.wait_for("snapshot")
            assert (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"] == 2

            kill(a)
            killed = time.monotonic()
            # `back` comes back through node c, as the web client does; `gone` does not.
            await on_a[1].wait_closed(timeout=5)
            since = on_a[1].events[-1]["seq"] if on_a[1].events else None
            returned = await again.events(sid, since=since).__aenter__()

            left = await watching.wait_for(
                "participant_left", timeout=30, account_id=gone.id, reason="dropped"
            )
            print(f"{gone.handle} left {time.monotonic() - killed:.1f} s after the kill")
            assert left["data"]["listener_count"] == 1
            assert (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"] == 1
            listeners = await host.call("GET", f"/spaces/{sid}/listeners", 200)
            assert [p["handle"] for p in listeners] == ["back"]
            # Nothing of node a counts for `back` any more: its one socket on c does. Closed,
            # `back` is away and leaves too (with a's count left over, it never would).
            await returned.__aexit__(None, None, None)
            await watching.wait_for(
                "participant_left", timeout=15, account_id=back.id, reason="dropped"
            )
        finally:
            await watching.__aexit__(None, None, None)
            for person in (host, gone, back, again):
                await person.close()
