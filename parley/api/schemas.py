"""Request and response bodies. Lengths and formats are checked in `core`, so their errors carry
the rule's own code; here only the JSON shape and text safety are checked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from parley.core.text import storable


def _storable(text: str) -> str:
    if not storable(text):
        raise ValueError("text contains characters that cannot be stored")
    return text


Text = Annotated[str, Field(max_length=10_000), AfterValidator(_storable)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


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


class NewSpace(Body):
    title: Text
    description: Text = ""
    topics: Annotated[list[Text], Field(max_length=20)] = []
    scheduled_start: datetime | None = None
    recording: bool = False
    speak_policy: Literal["everyone", "followed", "invited"] = "everyone"


class SpaceChange(Body):
    title: Text | None = None
    description: Text | None = None
    topics: Annotated[list[Text], Field(max_length=20)] | None = None


class Reaction(Body):
    emoji: Text


class MediaOffer(Body):
    sdp: Annotated[str, Field(max_length=100_000), AfterValidator(_storable)]
    type: Text


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class MediaConfig(BaseModel):
    ice_servers: list[IceServerOut]


class MediaAnswer(BaseModel):
    sdp: str
    type: Literal["answer"]
    ice_servers: list[IceServerOut]


class TextPartOut(BaseModel):
    """A run of user text. A text's parts, joined in order, give the text exactly; a part with
    an `href` (the redirector, `/l/{id}`) is a link, one without is plain text. Clients render
    links from these only, never from the text (offsets would differ between UTF-16 and code
    points; parts cannot)."""

    text: str
    href: str | None


class OwnerOut(BaseModel):
    id: str
    handle: str


class AutomatedOut(BaseModel):
    """On a bot's account wherever it appears: the person who answers for it (issue 13)."""

    owner: OwnerOut


class AccountOut(BaseModel):
    id: str
    handle: str
    display_name: str
    automated: AutomatedOut | None = None


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


class ParticipantOut(BaseModel):
    account_id: str
    handle: str
    role: Literal["host", "cohost", "speaker", "listener"]
    muted: bool
    hand_raised: bool
    invited: bool
    present: bool


class HostOut(BaseModel):
    id: str
    handle: str | None = None
    display_name: str | None = None


class SpaceOut(BaseModel):
    id: str
    title: str
    description: str
    title_parts: list[TextPartOut]
    description_parts: list[TextPartOut]
    topics: list[str]
    state: Literal["scheduled", "live", "ended", "cancelled"]
    host: HostOut
    host_present: bool
    cohosts: list[ParticipantOut]
    speakers: list[ParticipantOut]
    stage: list[ParticipantOut]
    listener_count: int
    recording: bool
    speak_policy: Literal["everyone", "followed", "invited"]
    scheduled_start: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    seq: int


class NotificationOut(BaseModel):
    id: int
    kind: str
    data: dict[str, object]
    created_at: datetime


class SuspendIn(Body):
    rule: Text
    reason: Text
    until: datetime | None = None


class UnsuspendIn(Body):
    reason: Text


class AppealIn(Body):
    notice_id: Text
    text: Text


class AppealDecisionIn(Body):
    decision: Literal["upheld", "overturned"]
    reason: Text


class ReportIn(Body):
    target_type: Text
    target_id: Text
    rule: Text
    comment: Text = ""


class ReportResolution(Body):
    status: Literal["actioned", "dismissed"]
    reason: Text


class FeatureIn(Body):
    enabled: bool
    message: Text = ""


class LinkRuleIn(Body):
    match: Literal["host", "prefix", "url"]
    pattern: Text
    verdict: Literal["warn", "block"]
    rule: Text
    reason: Text


class LinkRuleOut(BaseModel):
    id: str
    match: str
    pattern: str
    verdict: str
    rule: str
    reason: str
    created_at: datetime
    created_by: str | None


class LinkHopOut(BaseModel):
    url: str
    canonical_url: str | None
    verdict: Literal["allow", "warn", "block"]
    rule_id: str | None
    rule: str | None
    reason: str | None


class ChainErrorOut(BaseModel):
    reason: str
    url: str
    detail: str


class LinkCheckOut(BaseModel):
    url: str
    verdict: Literal["allow", "warn", "block"]
    canonical_url: str
    rule_id: str | None
    rule: str | None
    # The rule's reason; with no rule behind a warning, a code saying why the chain of redirects
    # could not be followed (`timeout`, `too_many_hops`, `unsafe_address`, ...).
    reason: str | None
    hops: list[LinkHopOut]
    chain_error: ChainErrorOut | None


class LinkIn(Body):
    url: Text


class LinkOut(BaseModel):
    id: str
    url: str
    href: str
