"""Where a live space's media is mixed: its home node, held under a lease (issue 12).

A node that mixes a space holds its lease and renews it every third of its length; a node that
dies stops renewing, and once the lease has run out on the clock any other node may take the
space. Every claim bumps the space's epoch, so a node that lost its lease can tell.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NodeInfo:
    """A node as it advertises itself to the others."""

    node_id: str
    url: str  # where other nodes reach it (relay, proxied offers)
    load: int  # media connections it holds
    seen_at: datetime


@dataclass(frozen=True)
class Home:
    """The node that mixes a space, until `lease_until` unless it renews."""

    space_id: str
    node_id: str
    node_url: str
    lease_until: datetime
    epoch: int

    def held_at(self, now: datetime) -> bool:
        return now < self.lease_until


# --- node-to-node authentication ------------------------------------------------------------
# Nodes share one secret (PARLEY_NODE_SECRET). A request from one node to another carries
# `node_id:expires:signature`, the signature an HMAC of who, what for and until when: the
# secret never travels, and a captured header is good for one purpose, briefly.

NODE_AUTH_SCHEME = "ParleyNode"


class NodeAuthError(Exception):
    """A node credential that is malformed, expired, or not signed with our secret."""


def _signature(secret: str, node_id: str, purpose: str, expires: int) -> str:
    message = f"{node_id}|{purpose}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def node_credential(secret: str, node_id: str, purpose: str, *, now: float, ttl: float) -> str:
    expires = int(now + ttl)
    return f"{node_id}:{expires}:{_signature(secret, node_id, purpose, expires)}"


def check_node_credential(secret: str, credential: str, purpose: str, *, now: float) -> str:
    """The calling node's id, if `credential` was made with our secret for `purpose` and has
    not expired; NodeAuthError otherwise."""
    try:
        node_id, expires_text, signature = credential.rsplit(":", 2)
        expires = int(expires_text)
    except ValueError as exc:
        raise NodeAuthError("malformed node credential") from exc
    expected = _signature(secret, node_id, purpose, expires)
    if not hmac.compare_digest(expected, signature):
        raise NodeAuthError("node credential not signed with this deployment's secret")
    if now > expires:
        raise NodeAuthError("node credential expired")
    return node_id
