"""Rate limits: which ones exist, how fast each lets requests through, and the arithmetic.

The arithmetic is GCRA (the generic cell rate algorithm, as in ATM networks and most API
gateways): one number per key, the "theoretical arrival time", instead of a window of
timestamps. A limit of `count` per `period` lets a burst of `count` through at once and then one
request every `period / count`; a refused request costs nothing, so hammering does not push the
moment a client may try again further out.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network

from parley.core.errors import RuleViolation


class KeyKind(StrEnum):
    """What a limit counts by."""

    ADDRESS = "address"  # the client's address (an IPv6 client's /64)
    ACCOUNT = "account"  # the signed-in account
    HANDLE = "handle"  # the account a sign-in names, whoever is asking
    TOKEN = "token"  # the API token a request came with (core.tokens)


class LimitName(StrEnum):
    SIGN_IN_ADDRESS = "sign_in_address"
    SIGN_IN_HANDLE = "sign_in_handle"
    SIGN_UP_ADDRESS = "sign_up_address"
    PASSWORD_CHANGE = "password_change"
    POSTS = "posts"
    PROFILE_CHANGES = "profile_changes"
    NOTIFICATIONS_SEEN = "notifications_seen"
    FOLLOWS = "follows"
    SPACES_CREATED = "spaces_created"
    SPACE_ACTIONS = "space_actions"
    REACTIONS = "reactions"
    MEDIA_OFFERS = "media_offers"
    SOCKETS_OPENED = "sockets_opened"
    LINK_CHECKS_ADDRESS = "link_checks_address"
    LINKS_MINTED = "links_minted"
    REPORTS = "reports"
    APPEALS = "appeals"
    TOKEN_WRITES = "token_writes"
    TOKEN_WRITES_ACCOUNT = "token_writes_account"


@dataclass(frozen=True)
class Rate:
    """`count` requests per `period` seconds, all of them at once if they come in a burst."""

    count: int
    period: float

    @property
    def interval(self) -> float:
        return self.period / self.count

    def __str__(self) -> str:
        for seconds, unit in ((3600.0, "h"), (60.0, "min"), (1.0, "s")):
            if self.period % seconds == 0:
                amount = int(self.period // seconds)
                return f"{self.count}/{'' if amount == 1 else amount}{unit}"
        return f"{self.count}/{self.period}s"


@dataclass(frozen=True)
class Limit:
    name: LimitName
    by: KeyKind
    rate: Rate


# The defaults: generous for a person using the web client, tight where each request costs the
# node real work (argon2, outbound connections) or other people's attention (posts, reports).
DEFAULT_RATES: Mapping[LimitName, tuple[KeyKind, Rate]] = {
    # A person mistyping their password a few times is fine; 300 guesses in 48 s is not. The
    # address limit also caps how much argon2 work one address can ask for.
    LimitName.SIGN_IN_ADDRESS: (KeyKind.ADDRESS, Rate(20, 60)),
    # Guessing one account's password from many addresses; an address that signed in to the
    # account before is not counted here, so a flood against a handle does not lock its owner out.
    LimitName.SIGN_IN_HANDLE: (KeyKind.HANDLE, Rate(10, 300)),
    LimitName.SIGN_UP_ADDRESS: (KeyKind.ADDRESS, Rate(5, 3600)),
    # Every check of a signed-in account's password (changing it, deleting the account) counts
    # here: a stolen session guesses no faster by taking turns.
    LimitName.PASSWORD_CHANGE: (KeyKind.ACCOUNT, Rate(5, 300)),
    LimitName.POSTS: (KeyKind.ACCOUNT, Rate(30, 300)),
    LimitName.PROFILE_CHANGES: (KeyKind.ACCOUNT, Rate(20, 300)),
    # A write per opening of the notifications: a person never comes near it, a script might.
    LimitName.NOTIFICATIONS_SEEN: (KeyKind.ACCOUNT, Rate(60, 60)),
    LimitName.FOLLOWS: (KeyKind.ACCOUNT, Rate(100, 3600)),
    LimitName.SPACES_CREATED: (KeyKind.ACCOUNT, Rate(10, 3600)),
    # Joins, hands, stage moves, mutes: a busy host clicks a lot, a script clicks more.
    LimitName.SPACE_ACTIONS: (KeyKind.ACCOUNT, Rate(60, 60)),
    # Every reaction is an event to every socket of the space: 73/s from one listener slowed
    # joins elsewhere eightfold. Ten in a burst, then one every half second.
    LimitName.REACTIONS: (KeyKind.ACCOUNT, Rate(10, 5)),
    LimitName.MEDIA_OFFERS: (KeyKind.ACCOUNT, Rate(20, 60)),
    LimitName.SOCKETS_OPENED: (KeyKind.ACCOUNT, Rate(60, 60)),
    # Each check may open outbound connections on the node's behalf.
    LimitName.LINK_CHECKS_ADDRESS: (KeyKind.ADDRESS, Rate(30, 60)),
    LimitName.LINKS_MINTED: (KeyKind.ACCOUNT, Rate(60, 60)),
    LimitName.REPORTS: (KeyKind.ACCOUNT, Rate(20, 3600)),
    LimitName.APPEALS: (KeyKind.ACCOUNT, Rate(5, 3600)),
    # Every write made with an API token, on top of the route's own limit: per token, and for
    # all the tokens of one account together (a bot that mints more tokens is not faster).
    LimitName.TOKEN_WRITES: (KeyKind.TOKEN, Rate(60, 60)),
    LimitName.TOKEN_WRITES_ACCOUNT: (KeyKind.ACCOUNT, Rate(120, 60)),
}


class RateLimited(RuleViolation):
    status = 429

    def __init__(self, limit: Limit, retry_after: float) -> None:
        # Whole seconds, rounded up, as Retry-After carries them: never tell a client to come
        # back before it may.
        seconds = max(1, int(-(-retry_after // 1)))
        super().__init__("rate_limited", f"Too many requests; try again in {seconds} s")
        self.limit = limit
        self.retry_after = seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The key's new theoretical arrival time (unchanged when refused).
    tat: float
    # Seconds until a request would be allowed (0 when allowed).
    retry_after: float


def decide(tat: float | None, now: float, rate: Rate) -> Decision:
    """GCRA: allowed if the key's theoretical arrival time, advanced by one request, is within
    one period of now."""
    start = now if tat is None else max(tat, now)
    new_tat = start + rate.interval
    allowed_at = new_tat - rate.period
    if allowed_at > now:
        return Decision(False, start, allowed_at - now)
    return Decision(True, new_tat, 0.0)


_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(s|sec|min|m|h|hour)\s*$")
_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}


def parse_rate(text: str) -> Rate:
    """ "10/min", "5/30s", "100/h" → a Rate."""
    match = _RATE_RE.match(text)
    if not match:
        raise ValueError(f"not a rate: {text!r} (write e.g. 10/min, 5/30s, 100/h)")
    count, amount, unit = int(match[1]), float(match[2] or 1), _UNITS[match[3]]
    if count < 1 or amount <= 0:
        raise ValueError(f"not a rate: {text!r} (count and period must be positive)")
    return Rate(count, amount * unit)


def limit_table(overrides: Mapping[str, str]) -> dict[LimitName, Limit]:
    """The defaults with the operator's overrides ({"posts": "10/min"}); an unknown name is an
    error rather than a limit silently not applied."""
    table = {name: Limit(name, by, rate) for name, (by, rate) in DEFAULT_RATES.items()}
    for key, text in overrides.items():
        try:
            name = LimitName(key)
        except ValueError:
            known = ", ".join(n.value for n in LimitName)
            raise ValueError(f"no rate limit named {key!r}; known: {known}") from None
        table[name] = Limit(name, table[name].by, parse_rate(text))
    return table


Network = IPv4Network | IPv6Network


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str:
    """The address a request is counted under. X-Forwarded-For is believed only as far as the
    chain runs through trusted proxies, read from the right (the nearest hop first): anything
    further left was written by the client and proves nothing. IPv6 clients count per /64,
    since one host is usually given a whole /64."""
    hops = [h.strip() for header in forwarded_for for h in header.split(",") if h.strip()]
    address = _parse(peer)
    while address is not None and hops and any(address in net for net in trusted):
        address = _parse(hops.pop())
    if address is None:
        return peer or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, 64), strict=False))
    return str(address)


def _parse(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
