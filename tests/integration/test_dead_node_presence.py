"""A node killed with its connections open never closes them: a surviving node, seeing it no
longer advertise itself, takes them back (store/connections.py). Who came back through another
node stays, counted once; who did not leaves after the presence timeout. So does a single node
restarted after a crash, which comes back under a new id and finds its previous life gone
quiet. Real `parley serve` processes."""

from __future__ import annotations

import contextlib
import signal
import time
from pathlib import Path

import pytest

from tests.support.clients import Person
from tests.support.cluster import cluster, kill, people
from tests.support.servers import answering, free_port, serve_process, wait_until


@pytest.mark.postgres
@pytest.mark.redis
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


async def test_a_single_node_restarted_after_a_crash_lets_go_of_who_was_in_its_rooms(
    tmp_path: Path,
) -> None:
    """The default install (SQLite, no node secret, a new node id at each start), killed with a
    space live and restarted on the same data: nobody's socket survived the crash, so the
    listener leaves and the space, whose host does not come back, ends. (Before, the counts the
    dead process left held both for good: the space stayed live, "1 listening", forever.)"""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Gone after two leases (2 s); then away past the presence timeout and the host's grace.
    env = {
        "PARLEY_HOME_LEASE_SECONDS": "1",
        "PARLEY_PRESENCE_TIMEOUT_SECONDS": "1",
        "PARLEY_HOST_GRACE_SECONDS": "1",
    }
    first = serve_process(tmp_path, port, **env)
    try:
        await answering(base)
        host, fan = [await Person.sign_up(base, h) for h in ("host", "fan")]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Crash"}))["id"]
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        async with contextlib.AsyncExitStack() as sockets:
            for person in (host, fan):
                watching = await sockets.enter_async_context(person.events(sid))
                await watching.wait_for("snapshot")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()

    second = serve_process(tmp_path, port, **env)
    try:
        await answering(base)
        space = await host.call("GET", f"/spaces/{sid}", 200)
        assert (space["state"], space["listener_count"]) == ("live", 1)  # as the crash left it

        async def ended() -> dict[str, object] | None:
            space: dict[str, object] = await host.call("GET", f"/spaces/{sid}", 200)
            return space if space["state"] == "ended" else None

        restarted = time.monotonic()
        space = await wait_until(ended, timeout=30, interval=0.2)
        print(f"the space ended {time.monotonic() - restarted:.1f} s after the restart")
        assert space["listener_count"] == 0
    finally:
        second.terminate()
        second.wait(30)
        for person in (host, fan):
            await person.close()
