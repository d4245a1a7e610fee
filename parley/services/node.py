"""One Parley node: its settings, connections, services and background tasks, wired together."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from parley.bus import Bus, make_bus
from parley.config import Settings
from parley.services.accounts import AccountService
from parley.services.fanout import FanoutHub
from parley.services.media import MediaService
from parley.services.passwords import Passwords
from parley.services.publisher import EventPublisher
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
        self.accounts = AccountService(self.db, passwords)
        self.spaces = SpaceService(self.db, EventPublisher(self.bus), settings)
        self.hub = FanoutHub(self.bus, self.spaces, settings.client_queue_size)
        self.media = MediaService(self.bus, self.spaces, settings)
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.db.migrate()
        await self.bus.start()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
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
                await self.spaces.sweep()
            except Exception:
                log.exception("sweep failed; trying again next interval")
