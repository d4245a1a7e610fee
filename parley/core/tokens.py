"""Automated accounts and API tokens: what a token may do (its scopes), which route needs which
scope, and the limits on how many bots and tokens one person makes.

A signed-in session may do everything its account may; a token only what its scopes name. The
table below is the whole grant: a route not in it is refused to every token (sign-in, passwords,
administration, making more tokens), so a route added later is closed to tokens until someone
decides which scope it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parley.core.errors import Forbidden, Invalid
from parley.core.text import bounded_text

# What sets an API token apart from a session's token at a glance (and in a leaked log line).
TOKEN_PREFIX = "pt_"
TOKEN_NAME_MAX = 50
MAX_BOTS_PER_OWNER = 10
MAX_TOKENS_PER_OWNER = 50
API_PREFIX = "/api/v1"


class Scope(StrEnum):
    ACCOUNT_READ = "account:read"
    ACCOUNT_WRITE = "account:write"
    SOCIAL_WRITE = "social:write"
    POSTS_READ = "posts:read"
    POSTS_WRITE = "posts:write"
    SPACES_READ = "spaces:read"
    SPACES_LISTEN = "spaces:listen"
    SPACES_SPEAK = "spaces:speak"
    SPACES_HOST = "spaces:host"
    REPORTS_WRITE = "reports:write"


@dataclass(frozen=True)
class AccountRef:
    """An account named without the rest of it: a bot's owner, whom a token speaks as."""

    id: str
    handle: str


@dataclass(frozen=True)
class StoredToken:
    id: str
    account: AccountRef  # whom it speaks as: a bot, or its owner
    owner_id: str
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    last_used_at: datetime
    revoked_at: datetime | None


# (method, path under /api/v1) → the scope a token needs. WS: the event socket.
ROUTE_SCOPES: Mapping[tuple[str, str], Scope] = {
    ("GET", "/me"): Scope.ACCOUNT_READ,
    ("GET", "/accounts"): Scope.ACCOUNT_READ,
    ("GET", "/accounts/{handle}"): Scope.ACCOUNT_READ,
    ("GET", "/me/notifications"): Scope.ACCOUNT_READ,
    ("GET", "/me/notifications/unread"): Scope.ACCOUNT_READ,
    ("POST", "/me/notifications/seen"): Scope.ACCOUNT_WRITE,
    ("GET", "/me/notices"): Scope.ACCOUNT_READ,
    ("PATCH", "/accounts/me"): Scope.ACCOUNT_WRITE,
    ("POST", "/accounts/{handle}/follow"): Scope.SOCIAL_WRITE,
    ("DELETE", "/accounts/{handle}/follow"): Scope.SOCIAL_WRITE,
    ("POST", "/accounts/{handle}/block"): Scope.SOCIAL_WRITE,
    ("DELETE", "/accounts/{handle}/block"): Scope.SOCIAL_WRITE,
    ("GET", "/timeline"): Scope.POSTS_READ,
    ("GET", "/accounts/{handle}/posts"): Scope.POSTS_READ,
    ("GET", "/links/check"): Scope.POSTS_READ,
    ("POST", "/posts"): Scope.POSTS_WRITE,
    ("DELETE", "/posts/{post_id}"): Scope.POSTS_WRITE,
    ("GET", "/me/held-posts"): Scope.POSTS_READ,
    ("DELETE", "/me/held-posts/{post_id}"): Scope.POSTS_WRITE,
    ("POST", "/links"): Scope.POSTS_WRITE,
    ("GET", "/spaces"): Scope.SPACES_READ,
    ("GET", "/spaces/{space_id}"): Scope.SPACES_READ,
    ("GET", "/spaces/{space_id}/listeners"): Scope.SPACES_READ,
    ("WS", "/spaces/{space_id}/events"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/join"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/leave"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/reactions"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/reminders"): Scope.SPACES_LISTEN,
    ("DELETE", "/spaces/{space_id}/reminders"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/media"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/media"): Scope.SPACES_LISTEN,
    ("DELETE", "/spaces/{space_id}/media"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/hls/{name}"): Scope.SPACES_LISTEN,
    ("HEAD", "/spaces/{space_id}/hls/{name}"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/recording"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/recording/timeline"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/recording/download"): Scope.SPACES_LISTEN,
    ("HEAD", "/spaces/{space_id}/recording/download"): Scope.SPACES_LISTEN,
    ("GET", "/spaces/{space_id}/recording/{name}"): Scope.SPACES_LISTEN,
    ("HEAD", "/spaces/{space_id}/recording/{name}"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/clips"): Scope.SPACES_LISTEN,
    ("GET", "/clips/{clip_id}"): Scope.SPACES_LISTEN,
    ("GET", "/clips/{clip_id}/audio"): Scope.SPACES_LISTEN,
    ("HEAD", "/clips/{clip_id}/audio"): Scope.SPACES_LISTEN,
    ("POST", "/spaces/{space_id}/hand"): Scope.SPACES_SPEAK,
    ("DELETE", "/spaces/{space_id}/hand"): Scope.SPACES_SPEAK,
    ("POST", "/spaces/{space_id}/invitation/accept"): Scope.SPACES_SPEAK,
    ("POST", "/spaces/{space_id}/invitation/decline"): Scope.SPACES_SPEAK,
    ("POST", "/spaces/{space_id}/unmute"): Scope.SPACES_SPEAK,
    ("POST", "/spaces"): Scope.SPACES_HOST,
    ("PATCH", "/spaces/{space_id}"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/start"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/end"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/speakers/{handle}"): Scope.SPACES_HOST,
    ("DELETE", "/spaces/{space_id}/speakers/{handle}"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/cohosts/{handle}"): Scope.SPACES_HOST,
    ("DELETE", "/spaces/{space_id}/cohosts/{handle}"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/mute/{handle}"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/remove/{handle}"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/recording/start"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/recording/stop"): Scope.SPACES_HOST,
    ("POST", "/spaces/{space_id}/recording/trim"): Scope.SPACES_HOST,
    ("DELETE", "/spaces/{space_id}/recording"): Scope.SPACES_HOST,
    ("POST", "/reports"): Scope.REPORTS_WRITE,
}

# Methods that change nothing: every other request by a token counts against its write limits.
# Opening the event socket ("WS") has a limit of its own (sockets_opened).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "WS"})


def is_api_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def route_template(path: str, path_params: Mapping[str, str]) -> str:
    """The route a request matched, as written in ROUTE_SCOPES: the path under /api/v1 with
    each segment that is a path parameter's value put back as `{name}`. A value that is also a
    literal segment of the path makes a template no route has: refused, never granted wider."""
    if path.startswith(API_PREFIX + "/"):
        path = path[len(API_PREFIX) :]
    names = {value: "{" + name + "}" for name, value in path_params.items()}
    return "/".join(names.get(segment, segment) for segment in path.split("/"))


def required_scope(method: str, template: str) -> Scope | None:
    """None: no token may use this route."""
    return ROUTE_SCOPES.get((method.upper(), template))


def check_scope(granted: frozenset[Scope], method: str, template: str) -> None:
    needed = required_scope(method, template)
    if needed is None:
        raise InsufficientScope(None)
    if needed not in granted:
        raise InsufficientScope(needed)


class InsufficientScope(Forbidden):
    """A route an API token may not use: `needed` names the scope it lacks, or None for a route
    no token may use."""

    def __init__(self, needed: Scope | None) -> None:
        message = (
            f"This token lacks the {needed.value} scope"
            if needed
            else "API tokens cannot use this route: sign in"
        )
        super().__init__("insufficient_scope", message)
        self.needed = needed


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise Invalid("invalid_scope", f"No scope {name!r}; known: {known}") from None
    if not scopes:
        raise Invalid("invalid_scope", "A token needs at least one scope")
    return frozenset(scopes)


def scopes_text(scopes: frozenset[Scope]) -> str:
    """How scopes are stored: sorted, space-separated (as OAuth writes them)."""
    return " ".join(sorted(s.value for s in scopes))


def scopes_from_text(text: str) -> frozenset[Scope]:
    # A scope since removed from the enum is dropped rather than failing every request.
    return frozenset(Scope(s) for s in text.split() if s in Scope._value2member_map_)


def clean_token_name(name: str) -> str:
    return bounded_text(name, most=TOKEN_NAME_MAX, code="invalid_token_name", what="A token name")
