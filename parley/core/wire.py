"""Frozen dataclass payloads as JSON-ready values and back, for the payloads that leave as JSON:
a space event's `data` (spaces/event_wire.py), a notification's (notifications.py), a bus
message's (bus/messages.py). Values go out as str, int, bool, None and lists; coming back, each
is checked against its field's type, so a payload read from the store or the bus is what it says
it is."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, cast, get_args, get_origin, get_type_hints

T = TypeVar("T")

# A payload as JSON-ready values: only at the edges.
WireData = dict[str, Any]

# Whether a field, at this value, is left out of the wire.
LeaveOut = Callable[["dataclasses.Field[Any]", object], bool]


def to_data(payload: object, *, leave_out: LeaveOut | None = None) -> WireData:
    """`payload`'s fields, in order, as JSON-ready values, but for those `leave_out` passes over
    (none, without it)."""
    data: WireData = {}
    for field in dataclasses.fields(payload):  # type: ignore[arg-type]
        value = getattr(payload, field.name)
        if leave_out is None or not leave_out(field, value):
            data[field.name] = _plain(value)
    return data


def from_data(cls: type[T], data: Mapping[str, object]) -> T:
    """The `cls` the wire describes. Raises `KeyError`, `TypeError` or `ValueError` if `data`
    lacks a field without a default or has one of the wrong kind (other keys, which a newer node
    may add, are passed over); a field with a default that is left out takes it."""
    hints = _hints(cast(type, cls))
    values: dict[str, Any] = {
        field.name: _typed(hints[field.name], data[field.name])
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
        if field.name in data or field.default is dataclasses.MISSING
    }
    return cls(**values)


@cache
def _hints(cls: type) -> Mapping[str, Any]:
    return get_type_hints(cls)


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
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON has numbers: 2 is as much a number of seconds as 2.0
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return _of_kind(hint, value)


def _of_kind(kind: type[T], value: object) -> T:
    # bool is an int to Python, not to JSON: a count is never true or false.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value
