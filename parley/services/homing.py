"""This node's part in homing (core.homing): the spaces it mixes, whose leases it renews, where
the others' are mixed, and its advertisement to the other nodes (issue 12).

Homing is only with a node secret (`PARLEY_NODE_SECRET`): without one a node cannot prove
itself to the others, and every node mixes the spaces whose media reach it, as a single node
does. Every node advertises itself all the same, secret or not: the advertisement is also how
the others (and this node's next life, under a new id after a crash) learn that it died, and
take back the connections it left counted (services/presence.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from parley.config import Settings
from parley.core.homing import (
    NODE_AUTH_SCHEME,
    Home,
    NodeAuthError,
    NodeInfo,
    check_node_credential,
    node_credential,
)
from parley.services.background import cancel_and_wait
from parley.services.common import NodeClock, new_id
from parley.store.db import Database
from parley.store.homes import HomeStore

log = logging.getLogger(__name__)

# A node credential is good this long: enough for one request or one socket's opening.
CREDENTIAL_TTL_SECONDS = 60.0


class Homing:
    def __init__(self, db: Database, settings: Settings, *, clock: NodeClock) -> None:
        self.db = db
        self.clock = clock
        secret = settings.node_secret
        self._secret = secret.get_secret_value() if secret is not None else None
        self._shares_a_bus = settings.redis_url is not None
        self.node_id = settings.node_id or new_id()
        self.url = settings.effective_node_url
        self.lease = timedelta(seconds=settings.home_lease_seconds)
        self.held: dict[str, Home] = {}  # spaces mixed here
        # Told of a space whose lease another node took (this node must stop mixing it).
        self.on_lost: Callable[[str], None] = lambda _space_id: None
        self.load: Callable[[], int] = lambda: 0
        self._renewer: asyncio.Task[None] | None = None
        # Spaces whose release or hand-over is under way: the database may have let them go
        # before `held` does, and a renewal reading the two in between must not take them for
        # lost (nor stop, through `on_lost`, whatever room of the space opens next).
        self._letting_go: set[str] = set()
        self._looked_for_gone: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self._secret is not None

    def is_me(self, home: Home) -> bool:
        return home.node_id == self.node_id

    async def start(self) -> None:
        if not self.enabled and self._shares_a_bus:
            # Not an error (one node may use Redis for its limits alone), but with several nodes
            # each would mix the spaces whose media reach it: listeners on one would not hear
            # speakers on another, each node would record its own mix into the one recording,
            # and nothing else would say why.
            log.warning(
                "PARLEY_REDIS_URL is set but PARLEY_NODE_SECRET is not: if several nodes share "
                "this deployment, give them one secret, or their listeners will not hear "
                "speakers connected to other nodes, and recordings will mix what each node heard"
            )
        await self.advertise()
        self._renewer = asyncio.create_task(self._renew_forever(), name="home-leases")

    async def stop(self) -> None:
        await cancel_and_wait(self._renewer)
        # Gone at once rather than when the leases run out: another node takes over now.
        try:
            for space_id in list(self.held):
                await self.release(space_id)
            async with self.db.write() as conn:
                await HomeStore(conn).forget_node(self.node_id)
        except Exception:
            # The node stops all the same (its other services have their own closing to do):
            # its leases and advertisement lapse instead, and the others take over then.
            log.warning("could not withdraw this node from the database", exc_info=True)

    async def resolve(self, space_id: str) -> Home:
        """The space's home, which becomes this node when nobody holds a lease on it."""
        now = self.clock.now()
        async with self.db.write() as conn:
            home = await HomeStore(conn).claim(
                space_id, self.node_id, self.url, now=now, until=now + self.lease
            )
        assert home is not None  # claimed, or someone else's
        if self.is_me(home):
            self.held[space_id] = home
        return home

    async def current(self, space_id: str) -> Home | None:
        """The space's home as the database has it, claiming nothing."""
        async with self.db.read() as conn:
            home = await HomeStore(conn).home(space_id)
        return home if home is not None and home.held_at(self.clock.now()) else None

    async def release(self, space_id: str) -> None:
        # Forgotten only once the database has let it go: a release cancelled on its way (a
        # room closing as the node stops) leaves the space to `stop`, not to its lease's end.
        if space_id not in self.held:
            return
        self._letting_go.add(space_id)
        try:
            async with self.db.write() as conn:
                await HomeStore(conn).release(space_id, self.node_id)
            self.held.pop(space_id, None)
        finally:
            self._letting_go.discard(space_id)
        log.info("space %s: let go of its home here", space_id)

    async def hand_over(self, space_id: str, candidates: set[str]) -> NodeInfo | None:
        """This node is going away: give the space to another node, one of `candidates` (nodes
        relaying it, which start mixing the moment their relay closes) if any is alive, else
        the least loaded; with no other node, let it go. The node it went to, if any."""
        if space_id not in self.held:
            return None
        others = [n for n in await self.nodes() if n.node_id != self.node_id]
        chosen = [n for n in others if n.node_id in candidates] or others
        self._letting_go.add(space_id)
        try:
            async with self.db.write() as conn:
                store = HomeStore(conn)
                until = self.clock.now() + self.lease
                if chosen and await store.hand_over(space_id, self.node_id, chosen[0], until=until):
                    to: NodeInfo | None = chosen[0]
                else:
                    await store.release(space_id, self.node_id)
                    to = None
            self.held.pop(space_id, None)  # as in release: once the database agreed
        finally:
            self._letting_go.discard(space_id)
        return to

    async def nodes(self) -> list[NodeInfo]:
        """Nodes heard from within two leases, least loaded first."""
        async with self.db.read() as conn:
            return await HomeStore(conn).nodes_seen_since(self.gone_before())

    def gone_before(self) -> datetime:
        """A node last heard from before this is gone (two leases: it renews every third)."""
        return self.clock.now() - 2 * self.lease

    def time_to_look_for_gone_nodes(self) -> bool:
        """True at most once every third of a lease: nodes say they are alive that often, so
        looking more often (every sweep) would find nothing new, at a query each time."""
        now = self.clock.now()
        last = self._looked_for_gone
        # A clock stepped back (NTP, or a test's) must not stop the looking until it catches up.
        if last is not None and timedelta(0) <= now - last < self.lease / 3:
            return False
        self._looked_for_gone = now
        return True

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self._renew()
                await self.advertise()
            except Exception:
                log.exception("could not renew home leases or advertise this node; trying again")

    async def _renew(self) -> None:
        before = dict(self.held)
        if not before:
            return
        async with self.db.write() as conn:
            kept = await HomeStore(conn).renew(
                set(before), self.node_id, until=self.clock.now() + self.lease
            )
        for space_id in before.keys() - kept:
            # Lost only if nothing of this node's own changed it meanwhile: a release or
            # hand-over under way, or a new claim (its Home is another object).
            if space_id in self._letting_go or self.held.get(space_id) is not before[space_id]:
                continue
            del self.held[space_id]
            log.warning("space %s: another node took its home lease", space_id)
            self.on_lost(space_id)

    async def advertise(self) -> None:
        """Tell the other nodes this node is alive (and how loaded), as it does every third of
        a lease."""
        me = NodeInfo(self.node_id, self.url, self.load(), self.clock.now())
        async with self.db.write() as conn:
            await HomeStore(conn).advertise(me)

    # --- proving who we are to another node, and checking who calls us --------------------

    def authorization(self, purpose: str) -> dict[str, str]:
        assert self._secret is not None, "homing is off: no node secret"
        credential = node_credential(
            self._secret,
            self.node_id,
            purpose,
            now=self.clock.wall(),
            ttl=CREDENTIAL_TTL_SECONDS,
        )
        return {"authorization": f"{NODE_AUTH_SCHEME} {credential}"}

    def caller_node(self, authorization: str | None, purpose: str) -> str:
        """The id of the node that made this request; NodeAuthError if it is not one of ours."""
        if self._secret is None:
            raise NodeAuthError("this node takes no node-to-node requests (no node secret)")
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme != NODE_AUTH_SCHEME:
            raise NodeAuthError(f"expected {NODE_AUTH_SCHEME} authorization")
        return check_node_credential(
            self._secret, credential.strip(), purpose, now=self.clock.wall()
        )
