"""A space's home lease in PostgreSQL: one holder at a time, taken over only once it ran out, and
never lost to this node's own comings and goings (a renewal beside a release, a room reopened
as the last one closes)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast
from unittest.mock import patch

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.media.edge import Room
from parley.services.common import NodeClock
from parley.services.homing import Homing
from parley.services.placement import Placement
from parley.store.db import Database
from parley.store.homes import HomeStore
from parley.store.tables import space_homes
from tests.support.audio import MediaClient
from tests.support.clients import Person
from tests.support.servers import fresh_postgres_database, serve

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=6)


@contextlib.asynccontextmanager
async def _a_space() -> AsyncIterator[tuple[Database, str]]:
    """A fresh PostgreSQL database holding one live space, made through the API; its id."""
    async with fresh_postgres_database() as url:
        with serve(database_url=url) as server:
            host = await Person.sign_up(server.base_url, "host")
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Home"}))["id"]
            await host.close()
        db = Database(url)
        try:
            yield db, sid
        finally:
            await db.close()


async def test_a_home_lease_has_one_holder_and_passes_on_only_once_it_ran_out() -> None:
    async with _a_space() as (db, sid):

        async def claim(node: str, at: datetime) -> tuple[str, int]:
            async with db.write() as conn:
                home = await HomeStore(conn).claim(
                    sid, node, f"http://{node}", now=at, until=at + LEASE
                )
            assert home is not None
            return home.node_id, home.epoch

        async def renew(node: str, at: datetime) -> set[str]:
            async with db.write() as conn:
                return await HomeStore(conn).renew({sid}, node, until=at + LEASE)

        assert await claim("a", T0) == ("a", 1)
        assert await claim("b", T0 + timedelta(seconds=1)) == ("a", 1)  # a holds it
        assert await renew("a", T0 + timedelta(seconds=2)) == {sid}
        assert await claim("b", T0 + timedelta(seconds=7)) == ("a", 1)  # renewed until 8 s
        assert await claim("b", T0 + timedelta(seconds=8)) == ("b", 2)  # a stopped renewing
        assert await renew("a", T0 + timedelta(seconds=9)) == set()  # a learns it lost it
        # Once b's lease runs out, nodes racing for the space see one winner.
        later = T0 + timedelta(seconds=20)
        winners = await asyncio.gather(*(claim(n, later) for n in ("c", "d", "e", "f")))
        assert len(set(winners)) == 1 and winners[0][1] == 3


async def test_a_release_cut_short_as_the_node_stops_still_lets_the_space_go_at_stop() -> None:
    # A room that empties as its node stops releases the space from background work, which
    # the stop cancels: the space must still go at the stop, not when its lease runs out (CI
    # once gave a drained node's listeners 6 s of silence, the default lease).
    async with _a_space() as (db, sid):
        homing = Homing(db, Settings(node_secret=SecretStr("a node secret")), clock=NodeClock())
        assert homing.is_me(await homing.resolve(sid))
        async with db.write() as other:  # another transaction holds the space's row
            row = select(space_homes).where(space_homes.c.space_id == sid)
            await other.execute(row.with_for_update())
            release = asyncio.create_task(homing.release(sid))
            await asyncio.sleep(0.3)
            assert not release.done()  # waiting for the row
            release.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await release
        await homing.stop()
        async with db.read() as conn:
            assert await HomeStore(conn).home(sid) is None


class _PausingAfterCommit:
    """A database whose next write, once committed, waits for the test before going on."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.after_next_commit: Callable[[], Awaitable[None]] | None = None

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.db.write() as conn:
            yield conn
        if (pause := self.after_next_commit) is not None:
            self.after_next_commit = None
            await pause()

    def read(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.db.read()


async def test_a_renewal_beside_a_release_takes_nothing_for_lost() -> None:
    # A renewal that read which spaces this node holds before a release, and the database
    # after it, took the released space for lost: it logged that another node had taken it
    # and closed the room of the space that the node had just opened again.
    async with _a_space() as (db, sid):
        pausing = _PausingAfterCommit(db)
        settings = Settings(node_secret=SecretStr("a node secret"))
        homing = Homing(cast(Database, pausing), settings, clock=NodeClock())
        lost: list[str] = []
        homing.on_lost = lost.append
        assert homing.is_me(await homing.resolve(sid))

        committed, go_on = asyncio.Event(), asyncio.Event()

        async def pause() -> None:
            committed.set()
            await go_on.wait()

        pausing.after_next_commit = pause
        release = asyncio.create_task(homing.release(sid))
        await committed.wait()  # the database let the space go; the release is not done yet
        renewal = asyncio.create_task(homing._renew())
        await asyncio.wait([renewal], timeout=0.5)  # what it does meanwhile, it does by now
        go_on.set()
        await asyncio.gather(release, renewal)
        assert lost == []
        assert homing.held == {}
        async with db.read() as conn:
            assert await HomeStore(conn).home(sid) is None


async def test_a_room_opened_as_the_last_one_closes_keeps_the_space_home() -> None:
    # The room of a space closes when its last connection on the node goes, and lets go of the
    # space's home as it closes. Someone who connects in that moment opens a new room; if it
    # claimed the home before the old room let go, the old release undid the claim, and the new
    # room mixed with no lease: another node could take the space and mix it too.
    async with fresh_postgres_database() as url:
        with serve(database_url=url, node_secret="a node secret") as server:
            host = await Person.sign_up(server.base_url, "host")
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Home"}))["id"]
            media, homing = server.node.media, server.node.homing
            client = await MediaClient.connect(host, sid, tone=440.0)
            assert sid in homing.held

            letting_go, go_on, let_gone = threading.Event(), threading.Event(), threading.Event()
            let_go = media.placement.stopped

            async def let_go_when_told(room: Room, placement: Placement) -> None:
                letting_go.set()
                await asyncio.to_thread(go_on.wait, 10)
                await let_go(room, placement)
                let_gone.set()

            with patch.object(media.placement, "stopped", let_go_when_told):
                await host.call("DELETE", f"/spaces/{sid}/media", 204)
                await client.close()
                assert await asyncio.to_thread(letting_go.wait, 10)  # the old room is closing
            reconnect = asyncio.create_task(MediaClient.connect(host, sid, tone=440.0))
            await asyncio.wait([reconnect], timeout=1.0)  # what it does meanwhile, done by now
            go_on.set()
            client = await reconnect
            assert await asyncio.to_thread(let_gone.wait, 10)  # the old room is closed

            assert media.rooms[sid].room.mixing and sid in homing.held
            home = server.call(homing.current(sid))
            assert home is not None and homing.is_me(home)
            await client.close()
            await host.close()


async def test_a_node_on_a_shared_bus_without_a_node_secret_says_what_that_means(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Without the one secret, each node mixes on its own: its listeners hear only the speakers
    connected to it. Nothing fails, so the operator is told at start-up."""
    bus_only = Settings(redis_url="redis://127.0.0.1:6379/0")
    for settings, warned in ((bus_only, True), (Settings(redis_url=None), False)):
        caplog.clear()
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'homing.db'}")
        try:
            await db.migrate()  # it advertises itself, secret or not
            homing = Homing(db, settings, clock=NodeClock())
            await homing.start()
            await homing.stop()
        finally:
            await db.close()
        said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any("PARLEY_NODE_SECRET is not" in m for m in said) is warned, said


async def test_a_node_whose_database_fails_as_it_stops_still_stops(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Withdrawing its advertisement is the last thing homing asks of the database: when that
    fails the node says so and goes on stopping (its advertisement lapses after two leases)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'homing.db'}")
    try:
        await db.migrate()
        homing = Homing(db, Settings(), clock=NodeClock())
        await homing.start()
        async with db.write() as conn:
            await conn.execute(text("DROP TABLE nodes"))
        await homing.stop()
    finally:
        await db.close()
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "could not withdraw this node from the database" in said


def test_a_node_looks_for_gone_nodes_once_a_third_of_a_lease_whatever_its_clock_does(
    tmp_path: Path,
) -> None:
    """Nodes say they are alive every third of a lease: looking for the silent ones on every
    sweep (ten a second in tests) would find nothing new, at a query each."""
    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    clock = NodeClock(lambda: start)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")  # never opened here
    homing = Homing(db, Settings(home_lease_seconds=6), clock=clock)
    looks = []
    for _ in range(13):  # 6 s in half-seconds
        looks.append(homing.time_to_look_for_gone_nodes())
        clock.advance(timedelta(seconds=0.5))
    assert [i for i, looked in enumerate(looks) if looked] == [0, 4, 8, 12]  # every 2 s
    clock.advance(timedelta(hours=-1))  # stepped back: it looks at once, not in an hour
    assert homing.time_to_look_for_gone_nodes()
    assert not homing.time_to_look_for_gone_nodes()
