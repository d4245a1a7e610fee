"""Space events: every change to a space is one, numbered per space with no gaps.

Each type of event carries a payload of its own (a frozen dataclass below); `event_wire.py`
turns them into API.md's `{seq, type, at, data}` and back, at the bus, the store and the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from parley.core.spaces.model import Role


class EventType(StrEnum):
    SPACE_STARTED = "space_started"
    SPACE_UPDATED = "space_updated"
    SPACE_ENDED = "space_ended"
    SPACE_CANCELLED = "space_cancelled"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    PARTICIPANT_REMOVED = "participant_removed"
    ROLE_CHANGED = "role_changed"
    MIC_CHANGED = "mic_changed"
    HAND_CHANGED = "hand_changed"
    SPEAKER_INVITED = "speaker_invited"
    INVITATION_DECLINED = "invitation_declined"
    REACTION = "reaction"
    HOST_ABSENT = "host_absent"
    HOST_RETURNED = "host_returned"
    HOST_CHANGED = "host_changed"
    ACTIVE_SPEAKERS = "active_speakers"
    # A stage member's audio connection died (the node hung it up) or, after that, is back:
    # clients show them reconnecting rather than "Mic on" while nothing of theirs is heard.
    SPEAKER_AUDIO = "speaker_audio"
    # The host turned recording on or off: clients show (or hide) REC.
    RECORDING_CHANGED = "recording_changed"
    # The host or a cohost pinned or unpinned a post: clients fetch the pins again.
    PINS_CHANGED = "pins_changed"
    # A final caption; partial ones travel beside the log, unnumbered (bus/messages.py).
    CAPTION = "caption"


class Frame(StrEnum):
    """What a space's socket is sent besides its events (API.md)."""

    SNAPSHOT = "snapshot"  # the whole space, when the client's cursor is too old or absent
    RESYNC = "resync"  # the client fell too far behind: reconnect from this seq
    ERROR = "error"  # why the socket is refused or closed
    # How many listen, standing for listeners' comings and goings up to its seq (the audience
    # gets these instead of each join and departure: services/feed_log.py)
    LISTENER_COUNT = "listener_count"
    # The socket's own account changed state (a limit set or lifted): what it may do now.
    ACCOUNT = "account"


# --- payloads: a field that is None is left out of the wire's `data` --------------------------


@dataclass(frozen=True)
class SpaceStarted:
    type: ClassVar[EventType] = EventType.SPACE_STARTED
    host_id: str
    started_at: datetime


@dataclass(frozen=True)
class SpaceUpdated:
    """What an edit changed; what it left alone is None."""

    type: ClassVar[EventType] = EventType.SPACE_UPDATED
    title: str | None = None
    description: str | None = None
    topics: tuple[str, ...] | None = None
    # A scheduled space moved to another time (its reminders stay set).
    scheduled_start: datetime | None = None


@dataclass(frozen=True)
class SpaceEnded:
    type: ClassVar[EventType] = EventType.SPACE_ENDED
    reason: str
    ended_at: datetime
    message: str | None = None  # what everyone in it is told (an admin's reason)


@dataclass(frozen=True)
class SpaceCancelled:
    type: ClassVar[EventType] = EventType.SPACE_CANCELLED
    reason: str
    message: str | None = None


@dataclass(frozen=True)
class About:
    """The participant an event is about."""

    account_id: str
    handle: str


@dataclass(frozen=True)
class ParticipantJoined(About):
    type: ClassVar[EventType] = EventType.PARTICIPANT_JOINED
    role: Role
    muted: bool
    listener_count: int


@dataclass(frozen=True)
class ParticipantLeft(About):
    type: ClassVar[EventType] = EventType.PARTICIPANT_LEFT
    reason: str
    listener_count: int


@dataclass(frozen=True)
class ParticipantRemoved(About):
    type: ClassVar[EventType] = EventType.PARTICIPANT_REMOVED
    by: str  # an account, or "moderation"
    reason: str
    listener_count: int


@dataclass(frozen=True)
class RoleChanged(About):
    type: ClassVar[EventType] = EventType.ROLE_CHANGED
    role: Role
    previous: Role
    muted: bool
    listener_count: int


@dataclass(frozen=True)
class MicChanged(About):
    type: ClassVar[EventType] = EventType.MIC_CHANGED
    muted: bool
    by: str


@dataclass(frozen=True)
class HandChanged(About):
    type: ClassVar[EventType] = EventType.HAND_CHANGED
    raised: bool
    denied_by: str | None = None


@dataclass(frozen=True)
class SpeakerInvited(About):
    type: ClassVar[EventType] = EventType.SPEAKER_INVITED
    by: str


@dataclass(frozen=True)
class InvitationDeclined(About):
    type: ClassVar[EventType] = EventType.INVITATION_DECLINED
    withdrawn_by: str | None = None


@dataclass(frozen=True)
class Reacted(About):
    type: ClassVar[EventType] = EventType.REACTION
    emoji: str


@dataclass(frozen=True)
class HostAbsent(About):
    type: ClassVar[EventType] = EventType.HOST_ABSENT
    reason: str


@dataclass(frozen=True)
class HostReturned(About):
    type: ClassVar[EventType] = EventType.HOST_RETURNED


@dataclass(frozen=True)
class HostChanged(About):
    type: ClassVar[EventType] = EventType.HOST_CHANGED
    previous: str
    reason: str | None = None


@dataclass(frozen=True)
class ActiveSpeakers:
    type: ClassVar[EventType] = EventType.ACTIVE_SPEAKERS
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class SpeakerAudio(About):
    type: ClassVar[EventType] = EventType.SPEAKER_AUDIO
    connected: bool


@dataclass(frozen=True)
class RecordingChanged:
    type: ClassVar[EventType] = EventType.RECORDING_CHANGED
    recording: bool
    by: str


@dataclass(frozen=True)
class PinsChanged:
    """The posts pinned to the space now, the latest first, and who changed them."""

    type: ClassVar[EventType] = EventType.PINS_CHANGED
    post_ids: tuple[str, ...]
    by: str


@dataclass(frozen=True)
class Captioned:
    """What a speaker said, as the recognizer finally heard it; times in seconds from the
    space's start."""

    type: ClassVar[EventType] = EventType.CAPTION
    speaker: str
    text: str
    final: bool
    start: float
    end: float


EventData = (
    SpaceStarted
    | SpaceUpdated
    | SpaceEnded
    | SpaceCancelled
    | ParticipantJoined
    | ParticipantLeft
    | ParticipantRemoved
    | RoleChanged
    | MicChanged
    | HandChanged
    | SpeakerInvited
    | InvitationDeclined
    | Reacted
    | HostAbsent
    | HostReturned
    | HostChanged
    | ActiveSpeakers
    | SpeakerAudio
    | RecordingChanged
    | PinsChanged
    | Captioned
)


@dataclass(frozen=True)
class Event:
    space_id: str
    seq: int
    at: datetime
    data: EventData

    @property
    def type(self) -> EventType:
        return self.data.type


class EventLog:
    """Numbers the events one decision produces, continuing from the space's last sequence."""

    def __init__(self, space_id: str, last_seq: int, now: datetime) -> None:
        self.space_id = space_id
        self.seq = last_seq
        self.now = now
        self.events: list[Event] = []

    def emit(self, data: EventData) -> Event:
        self.seq += 1
        event = Event(self.space_id, self.seq, self.now, data)
        self.events.append(event)
        return event
