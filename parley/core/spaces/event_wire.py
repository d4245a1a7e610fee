"""A space event in API.md's shape, `{seq, type, at, data}`, and back: what the bus publishes,
the store keeps and sockets are sent. Clients depend on it, so the payloads' fields are the
wire's keys, in order, and a field that is None is left out."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from parley.core.spaces.events import Event, EventData, EventType

T = TypeVar("T")

PAYLOADS: Mapping[EventType, type[EventData]] = {cls.type: cls for cls in get_args(EventData)}

_HINTS: Mapping[EventType, dict[str, Any]] = {t: get_type_hints(c) for t, c in PAYLOADS.items()}

# A payload's `data` as JSON-ready values (str, int, bool, lists): only at the edges.
WireData = dict[str, Any]


def to_wire(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "type": event.type.value,
        "at": event.at.isoformat(),
        "data": wire_data(event.data),
    }


def wire_data(data: EventData) -> WireData:
    return {
        field.name: _plain(value)
        for field in dataclasses.fields(data)
        if (value := getattr(data, field.name)) is not None
    }


def event_of(space_id: str, seq: int, type: EventType, at: datetime, data: WireData) -> Event:
    """The event the wire describes. Raises `KeyError`, `TypeError` or `ValueError` if its
    `data` lacks a field its type carries or has one of the wrong kind (other keys, which a
    newer node may add, are passed over)."""
    cls = PAYLOADS[type]
    hints = _HINTS[type]
    # Checked against each field's type as it is read, so the payload is what it says.
    values: dict[str, Any] = {
        field.name: _typed(hints[field.name], data[field.name])
        for field in dataclasses.fields(cls)
        if field.name in data or field.default is dataclasses.MISSING
    }
    return Event(space_id, seq, at, cls(**values))


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: object) -> object:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return _typed(inner, value)
    if origin is tuple:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        (item, _) = get_args(hint)
        return tuple(_typed(item, v) for v in value)
    if hint is datetime:
        return datetime.fromisoformat(_of_kind(str, value))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return _of_kind(hint, value)


def _of_kind(kind: type[T], value: object) -> T:
    # bool is an int to Python, not to JSON: a count is never true or false.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value
