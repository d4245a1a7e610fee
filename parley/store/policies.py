"""Storage of the policies an admin sets for everyone (the location policy)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from parley.core.location import NO_DELAY, LocationPolicy
from parley.store.rows import Store, upsert
from parley.store.tables import policies

LOCATION = "location"


class PolicyStore(Store):
    async def location(self) -> LocationPolicy:
        """The location policy, or none (no delay) while no admin has set one."""
        row = (await self.conn.execute(select(policies).where(policies.c.name == LOCATION))).first()
        if row is None:
            return NO_DELAY
        return LocationPolicy(
            timedelta(seconds=row.delay_seconds),
            row.rule,
            row.reason,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )

    async def set_location(self, policy: LocationPolicy, *, now: datetime, by: str | None) -> None:
        values = dict(
            delay_seconds=int(policy.delay.total_seconds()),
            rule=policy.rule,
            reason=policy.reason,
            updated_at=now,
            updated_by=by,
        )
        await upsert(self.conn, policies, {"name": LOCATION}, values)
