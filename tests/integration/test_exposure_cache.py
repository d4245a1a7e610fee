"""Every node answers "may this space be shown publicly?" (each HLS request, each share page)
from memory; a host's suspension reaches every node's memory at once over the bus, or within a
sweep when the bus message is lost."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import update

from parley.core.accounts import AccountState
from parley.store.tables import accounts
from tests.support.clients import Person, http_client
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, two_nodes, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Long enough that only an invalidation, never the time running out, can empty the memory.
LONG = {"exposure_cache_seconds": 3600, "sweep_interval_seconds": 1.0}


def held(node: ServerThread, host: Person) -> bool:
    return host.id in node.node.sharing.cache.host_ids()


async def share_page(node: ServerThread, space_id: str) -> httpx.Response:
    """The space's share page as anyone signed out gets it from `node`."""
    async with http_client(base_url=node.base_url) as anonymous:
        return await anonymous.get(f"/s/{space_id}")


async def test_a_suspended_hosts_space_is_withheld_on_every_node_within_a_second() -> None:
    async with two_nodes(**LONG) as (a, b):
        mod = await admin(a, "mod")
        host = await Person.sign_up(a.base_url, "host")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Soon gone"}))["id"]
        for node in (a, b):
            assert (await share_page(node, sid)).status_code == 200
            assert held(node, host)
        await suspend(mod, "host")  # through node a
        started = time.monotonic()
        assert (await share_page(a, sid)).status_code in {404, 410}  # this node: before answering
        await wait_until(lambda: not held(b, host), timeout=1.0, interval=0.01)
        assert (await share_page(b, sid)).status_code in {404, 410}
        assert time.monotonic() - started < 1.0
        for person in (mod, host):
            await person.close()


async def test_a_suspension_never_heard_on_the_bus_withholds_the_space_within_a_sweep() -> None:
    async with two_nodes(**LONG) as (a, b):
        host = await Person.sign_up(a.base_url, "host")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Quietly gone"}))["id"]
        for node in (a, b):
            assert (await share_page(node, sid)).status_code == 200

        async def suspend_quietly() -> None:
            async with a.node.db.write() as conn:
                await conn.execute(
                    update(accounts)
                    .where(accounts.c.id == host.id)
                    .values(state=AccountState.SUSPENDED.value)
                )

        started = time.monotonic()
        a.call(suspend_quietly())
        for node in (a, b):
            await wait_until(lambda n=node: not held(n, host), timeout=1.5, interval=0.02)
            r = await share_page(node, sid)
            # Withheld, then ended by moderation (the same sweep takes the host out of it).
            assert r.json()["code"] in {"space_unavailable", "space_removed"}, r.text
        assert time.monotonic() - started < 1.5  # one sweep interval, and a little
        await host.close()
