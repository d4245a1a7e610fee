"""Spaces as the rules take them, in memory: the unit tests' time, cast and a scheduled space."""

from __future__ import annotations

from datetime import UTC, datetime

from parley.core.spaces.model import Limits, Space, SpaceState, SpaceStatus, SpeakPolicy

T0 = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)

HOST, C1, C2, S1, S2, L1, L2 = "host", "c1", "c2", "s1", "s2", "l1", "l2"


def scheduled_space(
    limits: Limits | None = None, policy: SpeakPolicy = SpeakPolicy.EVERYONE
) -> SpaceState:
    space = Space(
        id="space-1",
        host_id=HOST,
        title="Morning show",
        state=SpaceStatus.SCHEDULED,
        created_at=T0,
        speak_policy=policy,
    )
    return SpaceState(space, limits=limits or Limits())
