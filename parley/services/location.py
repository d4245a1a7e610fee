"""The location policy: an admin sets, for everyone, how long after a place was observed a post
may publish it (core.location). Posts are checked against it where they are written
(PostService.post); here it is read and changed, every change audited."""

from __future__ import annotations

from parley.core import location
from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.location import LocationPolicy
from parley.core.moderation import AuditAction, AuditTarget
from parley.core.moderation_records import Details
from parley.services.common import Clock
from parley.store.db import Database
from parley.store.moderation import AuditLog
from parley.store.policies import LOCATION, PolicyStore


def _audited(policy: LocationPolicy) -> Details:
    return {
        "delay_seconds": int(policy.delay.total_seconds()),
        "rule": policy.rule,
        "reason": policy.reason,
    }


class LocationPolicies:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def policy(self) -> LocationPolicy:
        """Public: the policy in force (no delay while none was set)."""
        async with self.db.read() as conn:
            return await PolicyStore(conn).location()

    async def policy_for(self, actor: Actor) -> LocationPolicy:
        rules.require_moderator(actor)
        return await self.policy()

    async def set_policy(
        self, actor: Actor, delay_seconds: int, rule: str, reason: str
    ) -> LocationPolicy:
        rules.require_acting_moderator(actor)
        wanted = location.policy(delay_seconds, rule, reason)
        now = self.clock()
        async with self.db.write() as conn:
            store = PolicyStore(conn)
            before = await store.location()
            await store.set_location(wanted, now=now, by=actor.account_id)
            await AuditLog(conn).append(
                at=now,
                actor_id=actor.account_id,
                action=AuditAction.LOCATION_POLICY,
                target_type=AuditTarget.POLICY,
                target_id=LOCATION,
                rule=wanted.rule,
                reason=wanted.reason or None,
                before=_audited(before) if before.updated_at is not None else None,
                after=_audited(wanted),
            )
        return await self.policy()
