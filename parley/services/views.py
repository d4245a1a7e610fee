"""What readers get of a space, as records: the whole space as the API shows it, and the stage
alone for media and fan-out, which need no rendered text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from parley.core.accounts import Account
from parley.core.links.render import TextPart
from parley.core.spaces.model import Participant, Role, Space, SpaceStatus


@dataclass(frozen=True)
class SpaceView:
    """A space with its stage, its host's account (None if it is gone) and its title and
    description as parts, their links through the redirector. `reminded`: the one reader it
    was read for asked to be reminded of it; false when it was read for nobody in particular
    (the event socket's snapshot is shared by everyone in the room)."""

    space: Space
    stage: tuple[Participant, ...]
    host: Account | None
    title_parts: tuple[TextPart, ...]
    description_parts: tuple[TextPart, ...]
    reminded: bool = False

    def on_stage_as(self, role: Role) -> list[Participant]:
        return [p for p in self.stage if p.role is role]


@dataclass(frozen=True)
class StageSnapshot:
    """Who is on a space's stage, as of its event `seq`: what a media room mixes."""

    space_id: str
    state: SpaceStatus
    seq: int
    stage: tuple[Participant, ...]

    @property
    def live(self) -> bool:
        return self.state is SpaceStatus.LIVE


def space_view(
    space: Space,
    stage: Sequence[Participant],
    host: Account | None,
    *,
    title_parts: Sequence[TextPart],
    description_parts: Sequence[TextPart],
    reminded: bool = False,
) -> SpaceView:
    return SpaceView(
        space, tuple(stage), host, tuple(title_parts), tuple(description_parts), reminded
    )
