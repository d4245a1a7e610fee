"""Short-lived TURN credentials, as coturn checks them with `use-auth-secret`.

The TURN REST API scheme (draft-uberti-behave-turn-rest, coturn's `static-auth-secret`): the
username is "<unix time of expiry>:<who>", the password the base64 of HMAC-SHA1 over that
username with a secret shared with the TURN server. The TURN server recomputes it, so nothing
is stored, and a credential stops working on its own once its time has passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str
    expires_at: datetime


def turn_credential(secret: str, who: str, *, now: datetime, ttl_seconds: float) -> TurnCredential:
    """The credential for `who` (an account id, or the node itself), valid until now + ttl."""
    expires_at = now + timedelta(seconds=ttl_seconds)
    username = f"{int(expires_at.timestamp())}:{who}"
    return TurnCredential(username, turn_password(secret, username), expires_at)


def turn_password(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
