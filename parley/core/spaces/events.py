"""Space events: every change to a space is one, numbered per space with no gaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    # A final caption; partial ones travel beside the log, unnumbered (bus/messages.py).
    CAPTION = "caption"


class Frame(StrEnum):
    """What a space's socket is sent besides its events (API.md)."""

    SNAPSHOT = "snapshot"  # the whole space, when the client's cursor is too old or absent
    RESYNC = "resync"  # the client fell too far behind: reconnect from this seq
    ERROR = "error"  # why the socket is refused or closed


@dataclass(frozen=True)
class Event:
    space_id: str
    seq: int
    type: EventType
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The `{seq, type, at, data}` shape of API.md."""
        return {
            "seq": self.seq,
            "type": self.type.value,
            "at": self.at.isoformat(),
            "data": self.data,
        }


class EventLog:
    """Numbers the events one decision produces, continuing from the space's last sequence."""

    def __init__(self, space_id: str, last_seq: int, now: datetime) -> None:
        self.space_id = space_id
        self.seq = last_seq
        self.now = now
        self.events: list[Event] = []

    def emit(self, type: EventType, **data: Any) -> Event:
        self.seq += 1
        event = Event(self.space_id, self.seq, type, self.now, data)
        self.events.append(event)
        return event
