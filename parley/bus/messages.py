"""Every message that travels on the bus, as a typed object, and the one place that turns each
into text and back.

Four channels carry them:
- `accounts`: account-wide orders every node acts on at once: an account was suspended (cut it
  off), some of its sessions ended (close what they hold open), or a host blocked it (close its
  sockets on the host's live spaces, joined or only watched).
- `links`: a link rule was added or removed, so every node's rule set follows.
- `nodes`: orders to one node of the deployment, named by its id (`parley admin drain`).
- `space:{id}`: the space's events (API.md's `{seq, type, at, data}`), which fan-out forwards to
  sockets as the very text published and media reads for who is on stage, muted or gone.

The wire format is the one older nodes speak, so nodes of two versions can share a bus during an
upgrade. A message that is not one we know (a newer node may send kinds this one does not) is
ignored with a log line; the sweeps enforce everything from the database anyway.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from parley.bus.base import Bus
from parley.core.captions import Caption
from parley.core.links.rules import LinkRule
from parley.core.sessions import SessionEnd
from parley.core.spaces import events
from parley.core.spaces.event_wire import event_of, to_wire
from parley.core.spaces.events import Event, EventType
from parley.core.wire import from_data, to_data

log = logging.getLogger(__name__)

ACCOUNTS_CHANNEL: Final = "accounts"
LINKS_CHANNEL: Final = "links"
NODES_CHANNEL: Final = "nodes"
_SPACE_PREFIX: Final = "space:"


def space_channel(space_id: str) -> str:
    return _SPACE_PREFIX + space_id


# --- accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSuspended:
    account_id: str


@dataclass(frozen=True)
class SessionsEnded:
    account_id: str
    session_ids: tuple[str, ...]
    why: SessionEnd


@dataclass(frozen=True)
class KeptOut:
    account_id: str
    space_ids: tuple[str, ...]


@dataclass(frozen=True)
class AccountChanged:
    """What the account may do changed (limited, or a limit lifted): every node reads it anew
    rather than from its cache of sessions."""

    account_id: str


Order = AccountSuspended | SessionsEnded | KeptOut | AccountChanged

# The orders by the `type` their JSON names them with, beside their own fields (core/wire).
_ORDERS: Mapping[str, type[Order]] = {
    "suspended": AccountSuspended,
    "sessions_ended": SessionsEnded,
    "kept_out": KeptOut,
    "account_changed": AccountChanged,
}
_ORDER_TYPES = {order: name for name, order in _ORDERS.items()}

# --- links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRuleAdded:
    rule: LinkRule


@dataclass(frozen=True)
class LinkRuleRemoved:
    rule_id: str


LinkRuleChange = LinkRuleAdded | LinkRuleRemoved

# --- nodes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrainNode:
    """The named node drains as on SIGTERM: hands its spaces over, closes its clients' sockets
    and media (they come back through other nodes), and exits."""

    node_id: str


NodeOrder = DrainNode

# --- spaces: a space event travels as the core `Event` itself (its space is the channel's) ----


@dataclass(frozen=True)
class UnknownEvent:
    """A space event of a type this node does not know, from a newer node. Nothing here acts on
    it, but sockets are sent it in its place in the sequence: their clients may know it."""

    space_id: str
    seq: int
    text: str  # as published, forwarded as it is


@dataclass(frozen=True)
class LiveCaption:
    """A partial caption: sent to the space's sockets as it is heard, but not numbered, stored
    nor replayed (the final caption, an `Event`, is). Older nodes drop it as malformed."""

    space_id: str
    caption: Caption


SpaceMessage = Event | UnknownEvent | LiveCaption
Message = Order | LinkRuleChange | NodeOrder | SpaceMessage


def channel_of(message: Message) -> str:
    match message:
        case AccountSuspended() | SessionsEnded() | KeptOut() | AccountChanged():
            return ACCOUNTS_CHANNEL
        case LinkRuleAdded() | LinkRuleRemoved():
            return LINKS_CHANNEL
        case DrainNode():
            return NODES_CHANNEL
        case Event() | UnknownEvent() | LiveCaption():
            return space_channel(message.space_id)


def encode(message: Message) -> str:
    match message:
        case Event():
            # Compact and unescaped: this very text is what every socket of the space is sent.
            return json.dumps(to_wire(message), ensure_ascii=False, separators=(",", ":"))
        case AccountSuspended() | SessionsEnded() | KeptOut() | AccountChanged():
            return json.dumps({"type": _ORDER_TYPES[type(message)], **to_data(message)})
        case LinkRuleAdded(rule):
            return json.dumps({"type": "added", "rule": to_data(rule)})
        case LinkRuleRemoved(rule_id):
            return json.dumps({"type": "removed", "id": rule_id})
        case DrainNode():
            return json.dumps({"type": "drain", **to_data(message)})
        case UnknownEvent(text=text):
            return text
        case LiveCaption(caption=caption):
            data = {"type": EventType.CAPTION.value, "data": to_data(caption)}
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(channel: str, text: str) -> Message | None:
    """The message `text` heard on `channel`; None (logged) for one this node does not know."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        kind = data.get("type")
        if channel.startswith(_SPACE_PREFIX):
            decoded: Message | None = _space_event(channel.removeprefix(_SPACE_PREFIX), data, text)
        elif channel == ACCOUNTS_CHANNEL:
            decoded = _order(kind, data)
        elif channel == LINKS_CHANNEL:
            decoded = _link_rule_change(kind, data)
        elif channel == NODES_CHANNEL:
            decoded = from_data(DrainNode, data) if kind == "drain" else None
        else:
            decoded = None
    except (ValueError, KeyError, TypeError) as error:
        log.warning("ignoring a malformed message on %s (%s): %.200s", channel, error, text)
        return None
    if decoded is None:
        log.info(
            "ignoring a message of a kind this node does not know on %s: %.200s", channel, text
        )
    elif isinstance(decoded, UnknownEvent):
        log.info("passing on an event of a type this node does not know: %.200s", text)
    return decoded


def _order(kind: object, data: dict[str, Any]) -> Order | None:
    order: type[Order] | None = _ORDERS.get(kind) if isinstance(kind, str) else None
    return None if order is None else from_data(order, data)


def _link_rule_change(kind: object, data: dict[str, Any]) -> LinkRuleChange | None:
    match kind:
        case "added":
            return LinkRuleAdded(from_data(LinkRule, data["rule"]))
        case "removed":
            return LinkRuleRemoved(_text(data["id"]))
    return None


def _space_event(space_id: str, data: dict[str, Any], text: str) -> SpaceMessage:
    if "seq" not in data and data.get("type") == EventType.CAPTION.value:
        return LiveCaption(space_id, from_data(Caption, data["data"]))
    seq, payload = data["seq"], data.get("data") or {}
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(payload, dict):
        raise TypeError("seq is a number and data an object")
    try:
        kind = EventType(data["type"])
    except ValueError:
        return UnknownEvent(space_id, seq, text)
    # What a node acts on must be well formed: raises if not.
    return event_of(space_id, seq, kind, datetime.fromisoformat(_text(data["at"])), payload)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


# --- what a space event means for the stage a node's media and sockets hold --------------------


@dataclass(frozen=True)
class SpaceOver:
    """The space ended or was cancelled: its sockets close and its mixer stops."""


@dataclass(frozen=True)
class ParticipantGone:
    """Left, or `removed` by a moderator (their sockets on the space close too)."""

    account_id: str
    removed: bool


# A role or microphone change means for the stage what the event itself says.
StageEffect = SpaceOver | events.RoleChanged | events.MicChanged | ParticipantGone


def stage_effect(event: Event) -> StageEffect | None:
    """What the events that change who is heard or connected mean for the stage; None for the
    others."""
    match event.data:
        case events.SpaceEnded() | events.SpaceCancelled():
            return SpaceOver()
        case events.RoleChanged() | events.MicChanged() as change:
            return change
        case events.ParticipantLeft(account_id=account_id):
            return ParticipantGone(account_id, removed=False)
        case events.ParticipantRemoved(account_id=account_id):
            return ParticipantGone(account_id, removed=True)
    return None


async def publish(bus: Bus, message: Message) -> None:
    await bus.publish(channel_of(message), encode(message))


async def publish_many(bus: Bus, messages: Sequence[Message]) -> None:
    await bus.publish_many([(channel_of(m), encode(m)) for m in messages])


async def follow(
    bus: Bus,
    channel: str,
    ready: asyncio.Event,
    hear: Callable[[Message | None], Awaitable[None]],
    *,
    what: str,
) -> None:
    """Hand every message on `channel`, decoded, to `hear`, for as long as the task runs. When
    the subscription fails (the bus restarted) it is made again a second later; what was missed
    meanwhile is the caller's sweep's to catch up. `ready` is set once subscribed, and also on
    a failure, so that a node starting beside a broken bus does not wait on it for ever."""
    while True:
        try:
            async with bus.subscribe(channel) as received:
                ready.set()
                async for text in received:
                    await hear(decode(channel, text))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s interrupted; subscribing again", what)
            ready.set()
            await asyncio.sleep(1)
