"""One Parley node: its settings, connections, services and background tasks, wired together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from prometheus_client import CollectorRegistry

from parley.bus import Bus, make_bus
from parley.config import Settings
from parley.services.accounts import AccountService
from parley.services.fanout import CLOSE_UNAUTHORIZED, FanoutHub
from parley.services.links import LinkService
from parley.services.media import MediaService
from parley.services.metrics import NodeCollector
from parley.services.moderation import ACCOUNTS_CHANNEL, ModerationService
from parley.services.passwords import Passwords
from parley.services.publisher import EventPublisher
from parley.services.reports import ReportService
from parley.services.spaces import SpaceService
from parley.store.db import Database

log = logging.getLogger(__name__)


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.effective_database_url)
        self.bus: Bus = make_bus(settings.redis_url)
        passwords = Passwords(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
        )
        # Before the services whose content it guards: posts, profiles, space titles.
        self.links = LinkService(self.db, self.bus, settings)
        self.accounts = AccountService(
            self.db, passwords, guard_links=self.links.guard, instance_name=settings.instance_name
        )
        self.spaces = SpaceService(
            self.db,
            EventPublisher(self.bus),
            settings,
            guard_links=self.links.guard,
            render_links=self.links.render,
        )
        self.hub = FanoutHub(self.bus, self.spaces, settings.client_queue_size)
        self.media = MediaService(self.bus, self.spaces, settings)
        self.moderation = ModerationService(self.db, self.bus, self.accounts, self.spaces)
        self.reports = ReportService(self.db)
        # Per node, not prometheus_client's global registry: tests run several nodes at once.
        self.metrics = CollectorRegistry()
        self.metrics.register(NodeCollector(self))
        self._sweeper: asyncio.Task[None] | None = None
        self._enforcer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.db.migrate()
        await self.bus.start()
        ready = asyncio.Event()
        self._enforcer = asyncio.create_task(self._enforce_forever(ready), name="enforcer")
        await ready.wait()
        await self.links.start()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def stop(self) -> None:
        for task in (self._sweeper, self._enforcer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.links.stop()
        await self.media.close()
        await self.hub.close()
        await self.bus.close()
        await self.db.close()

    async def ready(self) -> dict[str, bool]:
        return {
            "database": await self.db.ping(),
            "bus": await self.bus.ping(),
            "media": self.media.ready(),
        }

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            try:
                # Suspended accounts lose their connections here before anything else, so
                # they are told why (4401) rather than only that they left a space.
                await self.cut_off(await self.accounts.suspended_among(self.connected_accounts()))
                await self.spaces.sweep()
                await self.moderation.sweep()
                await self.links.reconcile()
                await self.hub.catch_up()
                await self.media.catch_up()
            except Exception:
                log.exception("sweep failed; trying again next interval")

    async def _enforce_forever(self, ready: asyncio.Event) -> None:
        """Act on account-wide orders from any node (a suspension: cut the account off)."""
        while True:
            try:
                async with self.bus.subscribe(ACCOUNTS_CHANNEL) as orders:
                    ready.set()
                    async for message in orders:
                        order = json.loads(message)
                        if order.get("type") == "suspended":
                            await self.cut_off([str(order["account_id"])])
            except asyncio.CancelledError:
                raise
            except Exception:
                # The sweep catches anything missed meanwhile, from the database.
                log.exception("account orders interrupted; subscribing again")
                ready.set()
                await asyncio.sleep(1)

    def connected_accounts(self) -> set[str]:
        """Accounts with a socket or a media connection on this node."""
        accounts = {c.account_id for feed in self.hub.feeds.values() for c in feed.clients}
        for watched in self.media.rooms.values():
            accounts.update(watched.room.peers)
        return accounts

    async def cut_off(self, account_ids: list[str]) -> None:
        for account_id in account_ids:
            self.hub.close_account(account_id, CLOSE_UNAUTHORIZED, "account suspended")
            await self.media.hang_up_account(account_id)
