"""Bodies of spaces, their stage and media."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from parley.api.schemas.common import (
    AutomatedOut,
    Body,
    Text,
    TextPartOut,
    from_record,
    storable_text,
)
from parley.core.spaces.model import Participant, Role
from parley.core.tokens import AccountRef
from parley.services.views import SpaceView


class NewSpace(Body):
    title: Text
    description: Text = ""
    topics: Annotated[list[Text], Field(max_length=20)] = []  # noqa: RUF012 (pydantic copies it)
    scheduled_start: datetime | None = None
    recording: bool = False
    speak_policy: Literal["everyone", "followed", "invited"] = "everyone"


class SpaceChange(Body):
    title: Text | None = None
    description: Text | None = None
    topics: Annotated[list[Text], Field(max_length=20)] | None = None
    # Moves a scheduled space (409 `space_not_scheduled` once it is live or over).
    scheduled_start: datetime | None = None


class Reaction(Body):
    emoji: Text


class MediaOffer(Body):
    sdp: Annotated[str, Field(max_length=100_000), AfterValidator(storable_text)]
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


# The owners of the bots among the accounts a body names (services.bots.owners_of).
Owners = Mapping[str, AccountRef]
NO_OWNERS: Owners = {}


class ParticipantOut(BaseModel):
    account_id: str
    handle: str
    role: Literal["host", "cohost", "speaker", "listener"]
    muted: bool
    hand_raised: bool
    invited: bool
    present: bool
    # On stage, their audio connection died and is not back yet (the `speaker_audio` event).
    audio_lost: bool
    # A bot's label naming its owner (issue 13); null for a person.
    automated: AutomatedOut | None = None

    @classmethod
    def of(cls, p: Participant, owners: Owners = NO_OWNERS) -> ParticipantOut:
        return from_record(cls, p, automated=AutomatedOut.of(owners.get(p.account_id)))


class HostOut(BaseModel):
    id: str
    handle: str | None = None
    display_name: str | None = None
    automated: AutomatedOut | None = None


class NewPin(Body):
    post_id: str = Field(max_length=64)


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
    # Everyone who was ever in the space, each account once, host included; the most listeners
    # at once (0 for spaces older than this count).
    tuned_in: int
    peak_listeners: int
    recording: bool
    speak_policy: Literal["everyone", "followed", "invited"]
    scheduled_start: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    seq: int
    # Ids of the posts pinned above the stage, the latest first: GET /spaces/{id}/pins renders them.
    pinned: list[str]
    # The signed-in reader asked to be reminded when this scheduled space goes live
    # (POST|DELETE /spaces/{id}/reminders); false for anyone else, and once it is not scheduled.
    reminded: bool

    @classmethod
    def of(cls, view: SpaceView, owners: Owners = NO_OWNERS) -> SpaceOut:
        space, host = view.space, view.host
        automated = AutomatedOut.of(owners.get(space.host_id))
        return from_record(
            cls,
            space,
            title_parts=TextPartOut.of_parts(view.title_parts),
            description_parts=TextPartOut.of_parts(view.description_parts),
            topics=list(space.topics),
            host=from_record(HostOut, host, automated=automated)
            if host
            else HostOut(id=space.host_id),
            host_present=space.host_absent_since is None,
            cohosts=[ParticipantOut.of(p, owners) for p in view.on_stage_as(Role.COHOST)],
            speakers=[ParticipantOut.of(p, owners) for p in view.on_stage_as(Role.SPEAKER)],
            stage=[ParticipantOut.of(p, owners) for p in view.stage],
            reminded=view.reminded,
        )
