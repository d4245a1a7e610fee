"""The public transparency report: how many moderation actions of each kind, under each rule,
per month (UTC), decided appeals apart by their outcome. Counted by the database over the whole
audit log (store/moderation.py `AuditLog.counts`)."""

from __future__ import annotations

import asyncio
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from parley.core.moderation_records import ActionCount
from parley.services.common import Clock
from parley.store.db import Database
from parley.store.moderation import AuditLog

# A month's count a minute late is still that month's count; a public page that recounted the
# whole log for every visitor would be a lever anyone could pull on the node.
REPORT_FRESH = timedelta(minutes=1)


@dataclass(eq=False)
class TransparencyReport:
    db: Database
    _: KW_ONLY
    clock: Clock
    _counted: tuple[datetime, list[ActionCount]] | None = field(default=None, init=False)
    _counting: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def lines(self) -> list[ActionCount]:
        """Counted at most once per REPORT_FRESH on this node however many ask (one asking
        while it is counted waits for that count): an action shows within that."""
        async with self._counting:
            now = self.clock()
            if self._counted is None or now - self._counted[0] >= REPORT_FRESH:
                async with self.db.read() as conn:
                    self._counted = (now, await AuditLog(conn).counts())
            return self._counted[1]
