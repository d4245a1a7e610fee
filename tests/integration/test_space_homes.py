"""A space's home lease in PostgreSQL: one holder at a time, taken over only once it ran out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from parley.store.db import Database
from parley.store.homes import HomeStore
from tests.support.clients import Person
from tests.support.servers import fresh_postgres_database, serve

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=6)


async def test_a_home_lease_has_one_holder_and_passes_on_only_once_it_ran_out() -> None:
    async with fresh_postgres_database() as url:
        with serve(database_url=url) as server:
            host = await Person.sign_up(server.base_url, "host")
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Home"}))["id"]
            await host.close()
        db = Database(url)

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

        try:
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
        finally:
            await db.close()
