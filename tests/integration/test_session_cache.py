"""Every node answers bearer tokens from a session cache; what ends a session or suspends an
account reaches every node's cache: at once over the bus, within a sweep when a bus message is
lost (the sweep's one-second bound)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from parley.core.accounts import AccountState
from parley.services.common import hash_token
from parley.store.tables import accounts
from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, two_nodes, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Long enough that only an invalidation, never the time running out, can empty the caches.
LONG = {"session_cache_seconds": 3600, "sweep_interval_seconds": 1.0}


def on(node: ServerThread, person: Person) -> Person:
    """The same session, talking to another node."""
    return Person(node.base_url, person.handle, person.token, person.account)


def cached(node: ServerThread, person: Person) -> bool:
    return person.id in node.node.accounts.session_cache.account_ids()


async def test_a_suspended_accounts_cached_session_is_refused_on_every_node_at_once() -> None:
    async with two_nodes(**LONG) as (a, b):
        mod = await admin(a, "mod")
        ada = await Person.sign_up(a.base_url, "ada")
        ada_b = on(b, ada)
        for person in (ada, ada_b):
            await person.call("GET", "/me", 200)
        assert cached(a, ada) and cached(b, ada)
        await suspend(mod, "ada")  # through node a
        started = time.monotonic()  # the suspension is decided: from here, within a second
        await ada.refused("GET", "/me", 401, "invalid_token")
        await wait_until(lambda: not cached(b, ada), timeout=1.0, interval=0.01)
        await ada_b.refused("GET", "/me", 401, "invalid_token")
        assert time.monotonic() - started < 1.0
        for person in (mod, ada, ada_b):
            await person.close()


async def test_a_suspension_never_heard_on_the_bus_is_refused_within_a_sweep() -> None:
    """A command-line tool on another bus, or Redis reconnecting: the sweep re-checks what
    each cache holds against the database."""
    async with two_nodes(**LONG) as (a, b):
        ada = await Person.sign_up(a.base_url, "ada")
        ada_b = on(b, ada)
        for person in (ada, ada_b):
            await person.call("GET", "/me", 200)

        async def suspend_quietly() -> None:
            async with a.node.db.write() as conn:
                await conn.execute(
                    update(accounts)
                    .where(accounts.c.id == ada.id)
                    .values(state=AccountState.SUSPENDED.value)
                )

        started = time.monotonic()
        a.call(suspend_quietly())
        for node, person in ((a, ada), (b, ada_b)):
            await wait_until(lambda n=node: not cached(n, ada), timeout=1.5, interval=0.02)
            await person.refused("GET", "/me", 403, "account_suspended")
        assert time.monotonic() - started < 1.5  # one sweep interval, and a little
        for person in (ada, ada_b):
            await person.close()


async def test_signing_out_ends_the_session_at_once_on_both_nodes() -> None:
    async with two_nodes(**LONG) as (a, b):
        laptop = await Person.sign_up(a.base_url, "ada")
        phone = await Person.sign_in(a.base_url, "ada")
        laptop_b, phone_b = on(b, laptop), on(b, phone)
        for person in (laptop, phone, laptop_b, phone_b):
            await person.call("GET", "/me", 200)
        await laptop.call("DELETE", "/sessions/current", 204)  # through node a
        await laptop.refused("GET", "/me", 401, "invalid_token")  # this node: before answering
        # The other node: as soon as Redis delivers the order, well before any sweep.
        await wait_until(lambda: not _holds(b, laptop), timeout=0.25, interval=0.005)
        await laptop_b.refused("GET", "/me", 401, "invalid_token")
        # The account's other session goes on, from the cache, on both nodes.
        await phone.call("GET", "/me", 200)
        await phone_b.call("GET", "/me", 200)
        for person in (laptop, phone, laptop_b, phone_b):
            await person.close()


def _holds(node: ServerThread, person: Person) -> bool:
    cache = node.node.accounts.session_cache
    return cache.get(hash_token(person.token), node.node.clock.now()) is not None
