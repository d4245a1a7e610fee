"""A live space's room on this node, with what the node knows of its stage.

The stage here is the room's own view, kept by the events the room follows: who is on stage
and muted decides whose audio the mixer hears.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from parley.core.spaces.model import Role
from parley.media.edge import Room
from parley.services.placement import Placement


@dataclass
class StageMember:
    role: Role
    muted: bool


@dataclass(eq=False)
class WatchedRoom:
    """A room and the task that applies its space's events to it."""

    room: Room
    stage: dict[str, StageMember] = field(default_factory=dict)
    last_seq: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Offers being answered: the room is not idle even before their peers are in it.
    answering: int = 0
    task: asyncio.Task[None] | None = None
    # The session each peer's offer came with: ending that session hangs the peer up.
    sessions: dict[str, str] = field(default_factory=dict)
    ended: bool = False  # the space is over (not only this node's room empty)
    # Mixing here (the space's home) or relaying the home's program.
    placement: Placement = field(default_factory=Placement)

    def audible(self) -> set[str]:
        return {a for a, m in self.stage.items() if m.role.on_stage and not m.muted}
