"""Account-wide orders every node acts on at once, on the bus's `accounts` channel: an account
was suspended (cut it off), or some of its sessions ended (close what they hold open).

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


Order = AccountSuspended | SessionsEnded


def encode(order: Order) -> str:
    if isinstance(order, AccountSuspended):
        return json.dumps({"type": "suspended", "account_id": order.account_id})
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
        if kind == "sessions_ended":
            return SessionsEnded(
                str(data["account_id"]),
                tuple(str(s) for s in data["session_ids"]),
                SessionEnd(data["why"]),
            )
    except (ValueError, KeyError, TypeError):
        pass
    return None
