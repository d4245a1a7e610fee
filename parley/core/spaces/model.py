"""The state of one space, as the rules see it.

A `SpaceState` carries the space, every stage member, and whichever other participants the action
at hand concerns (actor, target). Listeners are counted, not listed: loading thousands of them to
decide one action would make every join O(listeners).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    HOST = "host"
    COHOST = "cohost"
    SPEAKER = "speaker"
    LISTENER = "listener"

    @property
    def on_stage(self) -> bool:
        return self is not Role.LISTENER

    @property
    def moderates(self) -> bool:
        return self in (Role.HOST, Role.COHOST)


class SpaceStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


class SpeakPolicy(StrEnum):
    EVERYONE = "everyone"
    FOLLOWED = "followed"  # people the host follows
    INVITED = "invited"  # nobody may raise a hand; the host and cohosts invite


@dataclass(frozen=True)
class Limits:
    stage_size: int = 13
    cohosts: int = 2


@dataclass
class Participant:
    account_id: str
    handle: str
    role: Role
    joined_at: datetime
    # When the current role began: the longest-serving cohost inherits a space.
    role_since: datetime
    muted: bool = True
    hand_raised: bool = False
    invited: bool = False
    present: bool = True
    removed: bool = False
    # On stage, their audio connection died (the home node hung it up) and is not back yet.
    audio_lost: bool = False

    @property
    def on_stage(self) -> bool:
        return self.present and self.role.on_stage


@dataclass
class Space:
    id: str
    host_id: str
    title: str
    state: SpaceStatus
    created_at: datetime
    description: str = ""
    topics: tuple[str, ...] = ()
    scheduled_start: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    recording: bool = False
    speak_policy: SpeakPolicy = SpeakPolicy.EVERYONE
    # Sequence number of the last event: the next one gets seq + 1.
    seq: int = 0
    listener_count: int = 0
    # Everyone who was ever in it, each account once (the host included), and the most
    # listeners it had at once: what a space that is over can still say about its audience.
    tuned_in: int = 0
    peak_listeners: int = 0
    host_absent_since: datetime | None = None
    # Why it ended or was cancelled, as its last event says (moderation's reasons take it down).
    end_reason: str | None = None
    # Posts pinned above the stage, the latest first (core.spaces.pins).
    pinned: tuple[str, ...] = ()


@dataclass
class SpaceState:
    space: Space
    participants: dict[str, Participant] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)

    def stage(self) -> list[Participant]:
        members = [p for p in self.participants.values() if p.role.on_stage and p.present]
        # A host in their grace period keeps their place on stage.
        host = self.participants.get(self.space.host_id)
        if host is not None and not host.present and host.role is Role.HOST:
            members.append(host)
        return members

    def cohosts(self) -> list[Participant]:
        return [p for p in self.stage() if p.role is Role.COHOST]
