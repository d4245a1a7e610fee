"""Two nodes sharing PostgreSQL and Redis behave as one service."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.common import server_process
from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.moderation import admin, suspend
from tests.support.servers import REDIS_URL, fresh_postgres_database, serve, two_nodes

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_events_from_both_nodes_reach_sockets_on_both_in_order() -> None:
    async with two_nodes() as (a, b):
        host = await Person.sign_up(a.base_url, "host")
        on_a = [await Person.sign_up(a.base_url, f"a{i}") for i in range(3)]
        # Accounts and tokens live in the shared database: sign in on b, act on b.
        on_b = [await Person.sign_up(b.base_url, f"b{i}") for i in range(3)]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Two nodes"}))["id"]
        for person in on_a + on_b:
            await person.call("POST", f"/spaces/{sid}/join", 200)

        async with on_a[0].events(sid) as stream_a, on_b[0].events(sid) as stream_b:
            await stream_a.wait_for("snapshot")
            await stream_b.wait_for("snapshot")
            # Everyone reacts at once, half through each node.
            await asyncio.gather(
                *(
                    p.call("POST", f"/spaces/{sid}/reactions", 204, json={"emoji": "👏"})
                    for p in (on_a + on_b) * 5
                )
            )
            await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Done"})
            await stream_a.wait_for("space_updated")
            await stream_b.wait_for("space_updated")

        for stream in (stream_a, stream_b):
            seqs = [e["seq"] for e in stream.events]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert stream.types().count("reaction") == 30
        assert stream_a.events == stream_b.events


async def test_a_suspension_on_one_node_cuts_the_account_off_on_the_other() -> None:
    async with fresh_postgres_database() as url:
        # Node b is a process of its own (`parley serve`), as in production.
        env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS_URL}
        with serve(database_url=url, redis_url=REDIS_URL) as a, server_process(**env) as b:
            mod = await admin(a, "mod")
            host, speaker, listener = [
                await Person.sign_up(b.base, h) for h in ("host", "speaker", "listener")
            ]
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Two nodes"}))["id"]
            for person in (speaker, listener):
                await person.call("POST", f"/spaces/{sid}/join", 200)
            await bring_on_stage(host, speaker, sid)
            voice = await MediaClient.connect(speaker, sid, tone=440.0)
            ear = await MediaClient.connect(listener, sid)
            try:
                async with speaker.events(sid) as stream:
                    await stream.wait_for("snapshot")
                    await ear.hearing.until("hears", 440.0)
                    started = time.monotonic()
                    await suspend(mod, "speaker")  # through node a; everything above is on b
                    assert await stream.wait_closed(timeout=1.0) == 4401
                    socket_closed = time.monotonic() - started
                    while voice.pc.connectionState != "closed":
                        assert time.monotonic() - started < 1.0, voice.pc.connectionState
                        await asyncio.sleep(0.01)
                    media_closed = time.monotonic() - started
                    await ear.hearing.until("silent_at", 440.0, timeout=1.0)
                print(
                    f"on the other node: socket closed after {1000 * socket_closed:.0f} ms, "
                    f"media after {1000 * media_closed:.0f} ms"
                )
            finally:
                await voice.close()
                await ear.close()
            for person in (mod, host, speaker, listener):
                await person.close()
