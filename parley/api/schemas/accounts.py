"""Bodies of accounts, sessions, posts and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from parley.api.schemas.common import AccountOut, Body, Text, TextPartOut, from_record
from parley.api.schemas.location import PlaceIn, PlaceOut
from parley.api.schemas.spaces import SpaceOut
from parley.core.held_posts import HeldPost
from parley.core.notifications import NotificationData, NotificationKind


class SignUp(Body):
    handle: Text
    password: Text
    display_name: Text


class SignIn(Body):
    handle: Text
    password: Text


class Deactivate(Body):
    password: Text


class PasswordChange(Body):
    current_password: Text
    new_password: Text


class ProfileChange(Body):
    display_name: Text | None = None
    bio: Text | None = None


class NewPost(Body):
    text: Text
    place: PlaceIn | None = None
    # A place the location policy says is too recent: refused (422 `location_too_recent`), or
    # held and published when the policy allows (202 with `publish_at`).
    when_too_recent: Literal["refuse", "hold"] = "refuse"
    # A space to share: shown with the post as a card (`space`) while it may be shown.
    space_id: str | None = Field(default=None, max_length=64)


class ProfileOut(AccountOut):
    bio: str
    display_name_parts: list[TextPartOut]
    bio_parts: list[TextPartOut]
    created_at: datetime
    followers: int
    following: int
    followed_by_me: bool
    blocked_by_me: bool


class OwnAccountOut(AccountOut):
    # What the signed-in person may see of themselves: whether to show the admin console.
    is_admin: bool


class MeOut(ProfileOut):
    is_admin: bool
    # "limited" while a moderator's limit lasts: listening and reading only (see the notices).
    state: Literal["active", "limited"]


class SessionOut(BaseModel):
    token: str
    account: OwnAccountOut


class PostOut(BaseModel):
    id: str
    text: str
    text_parts: list[TextPartOut]
    created_at: datetime
    author: AccountOut
    place: PlaceOut | None = None
    # The space it shares, as `GET /spaces/{id}` gives it; null when it shares none, or the
    # space may no longer be shown (taken down, its host suspended or gone).
    space: SpaceOut | None = None


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    # Its kind's payload, the core record itself: rendered without the fields at their default
    # (the route says so), as the store keeps it and clients have always read it.
    data: NotificationData
    created_at: datetime
    # Newer than the newest the account has marked seen (POST /me/notifications/seen).
    unread: bool


class UnreadOut(BaseModel):
    # At most 99: a client shows "99+" beyond.
    count: int


class SeenIn(Body):
    # The newest notification seen; what comes after it stays unread.
    up_to: int = Field(ge=0, le=2**63 - 1)


class HeldPostOut(BaseModel):
    """A post kept back by the location policy: published as post `id` at `publish_at`, under
    the policy's `rule`, unless its author cancels it first."""

    id: str
    text: str
    place: PlaceOut
    created_at: datetime
    publish_at: datetime
    rule: str
    # The space it will share once published.
    space_id: str | None = None

    @classmethod
    def of(cls, held: HeldPost) -> HeldPostOut:
        place = PlaceOut.of(held.place)
        assert place is not None
        return from_record(cls, held, place=place)
