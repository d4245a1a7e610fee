"""A space event in API.md's shape, `{seq, type, at, data}`, and back: what the bus publishes,
the store keeps and sockets are sent. Clients depend on it, so the payloads' fields are the
wire's keys, in order, and a field that is None is left out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

from parley.core.spaces.events import Event, EventData, EventType
from parley.core.wire import WireData, from_data, to_data

PAYLOADS: Mapping[EventType, type[EventData]] = {cls.type: cls for cls in get_args(EventData)}


def to_wire(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type.value,
        "at": event.at.isoformat(),
        "data": wire_data(event.data),
    }


def wire_data(data: EventData) -> WireData:
    return to_data(data, leave_out=lambda _field, value: value is None)


def event_of(space_id: str, seq: int, type: EventType, at: datetime, data: WireData) -> Event:
    """The event the wire describes. Raises `KeyError`, `TypeError` or `ValueError` if its
    `data` lacks a field its type carries or has one of the wrong kind (other keys, which a
    newer node may add, are passed over)."""
    return Event(space_id, seq, at, from_data(PAYLOADS[type], data))
