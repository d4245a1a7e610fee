"""Account-wide orders every node acts on at once, on the bus's `accounts` channel: an account
was suspended (cut it off), some of its sessions ended (close what they hold open), or a host
blocked it (close its sockets on the host's live spaces, joined or only watched).

The one place that encodes and decodes them, so publishers and the node that consumes them
agree on the shape. A message that is not an order we know is ignored (a newer node may send
kinds this one does not know; the sweep enforces everything from the database anyway).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from parley.core.sessions import SessionEnd

ACCOUNTS_CHANNEL = "accounts"


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


Order = AccountSuspended | SessionsEnded | KeptOut


def encode(order: Order) -> str:
    if isinstance(order, AccountSuspended):
        return json.dumps({"type": "suspended", "account_id": order.account_id})
    if isinstance(order, KeptOut):
        return json.dumps(
            {"type": "kept_out", "account_id": order.account_id, "space_ids": list(order.space_ids)}
        )
    return json.dumps(
        {
            "type": "sessions_ended",
            "account_id": order.account_id,
            "session_ids": list(order.session_ids),
            "why": order.why.value,
        }
    )


def decode(message: str) -> Order | None:
    try:
        data = json.loads(message)
        kind = data["type"]
        if kind == "suspended":
            return AccountSuspended(str(data["account_id"]))
        if kind == "kept_out":
            return KeptOut(str(data["account_id"]), tuple(str(s) for s in data["space_ids"]))
        if kind == "sessions_ended":
            return SessionsEnded(
                str(data["account_id"]),
                tuple(str(s) for s in data["session_ids"]),
                SessionEnd(data["why"]),
            )
    except (ValueError, KeyError, TypeError):
        pass
    return None
