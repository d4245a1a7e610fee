"""A node killed with its connections open never closes them: a surviving node, seeing it no
longer advertise itself, takes them back (store/connections.py). Who came back through another
node stays, counted once; who did not leaves after the presence timeout. So does a single node
restarted after a crash, which comes back under a new id and finds its previous life gone
quiet. A node that was only paused comes back holding its sockets and counts them again
(services/connection_counts.py): nobody in its rooms leaves. Real `parley serve` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.common import ServerProcess
from parley.store.db import IDLE_IN_TRANSACTION_MS, Database
from parley.store.tables import node_connections
from tests.support.clients import Person
from tests.support.cluster import cluster, kill, people
from tests.support.metrics import scraped_from
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


@pytest.mark.postgres
@pytest.mark.redis
async def test_a_node_taken_for_gone_while_only_paused_keeps_who_is_in_its_rooms() -> None:
    """Stopped (SIGSTOP: a VM migrated, a process swapped out) for longer than two leases, the
    node is taken for gone and its counts taken back; once it runs again its listener, whose
    socket never closed, stays past the presence timeout. (Before, they were let go then,
    "dropped" while in the room.)"""
    # Gone after two leases (2 s); its listener would be let go `timeout` s after it was last
    # heard. Stopped inside a transaction, the node holds its row locks until PostgreSQL ends it
    # (IDLE_IN_TRANSACTION_MS), so the take-back may come that late: the timeout is longer (a CI
    # run with a 5 s timeout took back at 5.1 s and let the fan go before the node ran again).
    timeout = 2 * 1 + int(IDLE_IN_TRANSACTION_MS) / 1000 + 1
    env = {"PARLEY_HOME_LEASE_SECONDS": "1", "PARLEY_PRESENCE_TIMEOUT_SECONDS": str(timeout)}
    async with cluster(2, **env) as deployment:
        a, b = deployment.nodes
        (host,) = await people(b, "host")
        (fan,) = await people(a, "fan")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Paused"}))["id"]
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        db = Database(deployment.env["PARLEY_DATABASE_URL"])

        async def counted_sockets() -> int:
            query = select(node_connections.c.sockets).where(
                node_connections.c.account_id == fan.id
            )
            async with db.read() as conn:
                return sum((await conn.execute(query)).scalars())

        async def recounts(node: ServerProcess) -> float:
            return (await scraped_from(node.base))["parley_connections_recounted_total"]

        async def taken_back() -> bool:
            return await counted_sockets() == 0

        async with host.events(sid) as watching:
            stream = await fan.events(sid).__aenter__()
            try:
                await watching.wait_for("snapshot")
                await stream.wait_for("snapshot")
                assert await counted_sockets() == 1
                os.kill(a.pid, signal.SIGSTOP)
                stopped = time.monotonic()
                try:
                    # Node b takes node a for gone and its count of the fan's socket back.
                    await wait_until(taken_back, timeout=10, interval=0.1)
                finally:
                    os.kill(a.pid, signal.SIGCONT)
                print(f"taken back {time.monotonic() - stopped:.1f} s after the stop")
                # Running again, it counts the socket it still holds.
                await wait_until(counted_sockets, timeout=5, interval=0.1)
                print(f"counted again {time.monotonic() - stopped:.1f} s after the stop")
                # Past the presence timeout (from when node a was last heard) and a few sweeps:
                # the fan is still in the room, and their socket still open.
                await asyncio.sleep(max(0.0, stopped + timeout + 2 - time.monotonic()))
                assert "participant_left" not in watching.types()
                assert stream.close_code is None
                assert (await host.call("GET", f"/spaces/{sid}", 200))["listener_count"] == 1
                assert await counted_sockets() == 1
                assert [await recounts(n) for n in (a, b)] == [1, 0]  # b was never taken
                assert "were not counted (taken for gone?)" in a.log_path.read_text()
                # Counted once: closed, the socket no longer holds them, and they leave.
                await stream.__aexit__(None, None, None)
                left = await watching.wait_for("participant_left", timeout=15, account_id=fan.id)
                assert left["data"]["reason"] == "dropped"
            finally:
                await stream.__aexit__(None, None, None)
                await db.close()
                for person in (host, fan):
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
