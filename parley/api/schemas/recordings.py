"""Bodies of recordings, their replay timeline, and clips."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from parley.api.schemas.common import Body, from_record
from parley.services.clips import ClipView
from parley.services.recordings import RecordingInfo, ReplayTimeline

API = "/api/v1"


class RecordingOut(BaseModel):
    space_id: str
    title: str
    # "recording": the space is still being recorded (the playlist is an EVENT playlist);
    # "complete": final, a VOD playlist with its end.
    state: Literal["recording", "complete"]
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float
    size_bytes: int
    segments: int
    playlist_url: str
    download_url: str
    timeline_url: str
    # The transcript on the replay's timeline: as WebVTT, as lines (JSON), and with the audio
    # as an HLS multivariant playlist whose subtitles rendition it is.
    transcript_url: str
    transcript_lines_url: str
    master_playlist_url: str
    replay_page: str

    @classmethod
    def of(cls, info: RecordingInfo) -> RecordingOut:
        base = f"{API}/spaces/{info.space_id}/recording"
        return cls(
            space_id=info.space_id,
            title=info.title,
            state="complete" if info.finalized else "recording",
            started_at=info.started_at,
            ended_at=info.ended_at,
            duration_seconds=round(info.duration, 3),
            size_bytes=info.size,
            segments=info.segments,
            playlist_url=f"{base}/replay.m3u8",
            download_url=f"{base}/download",
            timeline_url=f"{base}/timeline",
            transcript_url=f"{base}/transcript.vtt",
            transcript_lines_url=f"{base}/transcript",
            master_playlist_url=f"{base}/master.m3u8",
            replay_page=f"/#/spaces/{info.space_id}/replay",
        )


class SpeakerTurnOut(BaseModel):
    account_id: str
    handle: str
    start: float
    end: float


class ReactionMarkOut(BaseModel):
    at: float
    account_id: str
    handle: str
    emoji: str


class TimelineOut(BaseModel):
    duration_seconds: float
    speakers: list[SpeakerTurnOut]
    reactions: list[ReactionMarkOut]

    @classmethod
    def of(cls, timeline: ReplayTimeline) -> TimelineOut:
        return cls(
            duration_seconds=round(timeline.duration, 3),
            speakers=[
                SpeakerTurnOut(
                    account_id=t.turn.account_id,
                    handle=t.handle,
                    start=round(t.turn.start, 3),
                    end=round(t.turn.end, 3),
                )
                for t in timeline.turns
            ],
            reactions=[
                ReactionMarkOut(
                    at=round(r.at, 3), account_id=r.account_id, handle=r.handle, emoji=r.emoji
                )
                for r in timeline.reactions
            ],
        )


Seconds = Annotated[float, Field(ge=0, le=86_400 * 7)]


class TrimIn(Body):
    # Drop this much of the start (cut at the segment boundary at or before it).
    seconds: Seconds


class RecordingRemovalIn(Body):
    rule: str
    reason: str


class NewClip(Body):
    # Omitted: the last `duration_seconds` of a live space (at most 30). Given: seconds into
    # the replay where the clip starts (at most 60 long).
    start_seconds: Seconds | None = None
    duration_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0


class ClipOut(BaseModel):
    id: str
    space_id: str
    title: str
    by: str  # the handle of whoever clipped it
    start_seconds: float
    duration_seconds: float
    created_at: datetime
    audio_url: str
    page: str

    @classmethod
    def of(cls, clip: ClipView) -> ClipOut:
        return from_record(
            cls,
            clip,
            by=clip.by_handle,
            start_seconds=round(clip.start, 3),
            duration_seconds=round(clip.duration, 3),
            audio_url=f"{API}/clips/{clip.id}/audio",
            page=f"/#/clips/{clip.id}",
        )
