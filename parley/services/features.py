"""Feature switches: an admin turns `spaces` (or only creating them) off for everyone, with a
public message. While a switch is off the spaces it covers refuse with 503 and that message;
turning `spaces` off also ends every live space gracefully, telling everyone in it why."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core import moderation as rules
from parley.core.actors import Actor
from parley.core.errors import Unavailable
from parley.core.moderation import AuditAction, AuditTarget, Feature
from parley.core.moderation_records import FeatureChange, FeatureSwitch
from parley.core.spaces import rules as space_rules
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState, SpaceStatus
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.store.db import Database
from parley.store.moderation import AuditLog, ModerationStore
from parley.store.spaces import SpaceStore


class FeatureDisabled(Unavailable):
    """A feature an admin switched off, with the admin's message for everyone."""

    def __init__(self, feature: Feature, message: str) -> None:
        super().__init__("feature_disabled", message or "Spaces are offline for now")
        self.feature = feature


class FeatureSwitches:
    def __init__(self, db: Database, decisions: SpaceDecisions, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.decisions = decisions

    async def require(self, feature: Feature) -> None:
        """Refuse with 503 and the admin's public message while the feature is off. Creating a
        space needs both `spaces` and `spaces.create`."""
        async with self.db.read() as conn:
            await self.require_in(conn, feature)

    @staticmethod
    async def require_in(conn: AsyncConnection, feature: Feature) -> None:
        """`require`, read in the caller's transaction (a join checks within its own)."""
        switches = await ModerationStore(conn).features()
        wanted = [Feature.SPACES] if feature is Feature.SPACES else [Feature.SPACES, feature]
        for name in wanted:
            switch = switches.get(name.value)
            if switch is not None and not switch.enabled:
                raise FeatureDisabled(name, switch.message)

    async def set_feature(
        self, actor: Actor, name: str, enabled: bool, message: str = ""
    ) -> FeatureChange:
        """Switch a feature on or off for everyone. Turning `spaces` off ends every live space
        gracefully, with the message; turning it on again restores service."""
        rules.require_acting_moderator(actor)
        feature = rules.feature(name)
        message = rules.clean_message(message)
        now = self.clock()
        actor_id = actor.account_id
        async with self.db.write() as conn:
            store = ModerationStore(conn)
            before = (await store.features()).get(feature.value)
            await store.set_feature(
                feature.value, enabled=enabled, message=message, now=now, by=actor_id
            )
            await AuditLog(conn).append(
                at=now,
                actor_id=actor_id,
                action=AuditAction.FEATURE_ON if enabled else AuditAction.FEATURE_OFF,
                target_type=AuditTarget.FEATURE,
                target_id=feature.value,
                reason=message or None,
                before={"enabled": before.enabled} if before else None,
                after={"enabled": enabled, "message": message},
            )
        ended = 0
        if feature is rules.Feature.SPACES and not enabled:
            ended = await self.end_all("feature_disabled", message)
        return FeatureChange((await self.status())[feature.value], spaces_ended=ended)

    async def status(self) -> dict[str, FeatureSwitch]:
        """Public: every feature switch and its message, by feature name."""
        async with self.db.read() as conn:
            switches = await ModerationStore(conn).features()
        never_set = {f.value: FeatureSwitch(f.value, True, "", None) for f in rules.Feature}
        return {name: switches.get(name, switch) for name, switch in never_set.items()}

    async def end_all(self, reason: str, message: str) -> int:
        """End every live space, telling everyone in it why; how many were ended."""
        async with self.db.read() as conn:
            live = await SpaceStore(conn).by_state(SpaceStatus.LIVE, limit=1_000_000)

        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            if state.space.state is not SpaceStatus.LIVE:
                return []
            return space_rules.finish(state, self.clock(), reason, message)

        for space in live:
            await self.decisions.decide(space.id, [], decide)
        return len(live)
