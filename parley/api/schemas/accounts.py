"""Bodies of accounts, sessions, posts and notifications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from parley.api.schemas.common import AccountOut, Body, Text, TextPartOut
from parley.api.schemas.location import PlaceIn, PlaceOut


class SignUp(Body):
    handle: Text
    password: Text
    display_name: Text


class SignIn(Body):
    handle: Text
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


class NotificationOut(BaseModel):
    id: int
    kind: str
    data: dict[str, object]
    created_at: datetime
