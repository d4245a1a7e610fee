"""Recordings and clips as the rules see them: pure, no I/O.

A recording is the live program's segments, kept in order of their sequence numbers. Its
timeline (the replay's seconds) is the segments' durations end to end: pauses in the program
(nobody connected to the space's media) take no time in the replay. Everything that points into
a recording from outside (a clip, a speaker's turn) is placed on that timeline from the
segments' own wall-clock starts, so trimming the start (dropping whole segments) moves nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from parley.core.errors import Conflict, Invalid

# How much a clip may hold: of a live space, its last moments; of a replay, a short passage.
LIVE_CLIP_SECONDS = 30.0
REPLAY_CLIP_SECONDS = 60.0
CLIP_MIN_SECONDS = 1.0


class Deletion(StrEnum):
    """Who deleted a recording (kept on its row: 410 `recording_deleted` says so)."""

    HOST = "host"
    MODERATOR = "moderator"
    RETENTION = "retention"


@dataclass(frozen=True)
class RecordedSegment:
    space_id: str
    sequence: int
    started_at: datetime  # wall clock of its first sample
    duration: float  # seconds
    size: int  # bytes
    discontinuity: bool  # its timestamps do not follow the previous segment's

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.duration)


@dataclass(frozen=True)
class Recording:
    space_id: str
    host_id: str
    created_at: datetime
    finalized_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    deletion: str | None = None
    # The moderation action that removed it, while its files are kept for an appeal.
    removed_by: str | None = None

    @property
    def finalized(self) -> bool:
        return self.finalized_at is not None

    @property
    def open(self) -> bool:
        """Still taking segments: not final (ENDLIST) and not deleted."""
        return self.finalized_at is None and self.deleted_at is None

    def expiry(self) -> tuple[Deletion, str | None]:
        """How, and by whom, its retention says it was deleted: a removed recording stays the
        moderator's deletion."""
        if self.removed_by is not None:
            return Deletion.MODERATOR, self.deleted_by
        return Deletion.RETENTION, None


@dataclass(frozen=True)
class Clip:
    id: str
    space_id: str
    account_id: str
    start_sequence: int
    start_offset: float  # seconds into that segment
    duration: float
    created_at: datetime


@dataclass(frozen=True)
class Span:
    """A stretch of a recording's timeline: `start` seconds from its beginning, `duration` long."""

    start: float
    duration: float

    @property
    def end(self) -> float:
        return self.start + self.duration


class Timeline:
    """Where each segment sits on the replay's timeline, and what lies at a given second."""

    def __init__(self, segments: Sequence[RecordedSegment]) -> None:
        self.segments = sorted(segments, key=lambda s: s.sequence)
        self.starts: list[float] = []
        position = 0.0
        for segment in self.segments:
            self.starts.append(position)
            position += segment.duration
        self.duration = position

    def __bool__(self) -> bool:
        return bool(self.segments)

    def size(self) -> int:
        return sum(s.size for s in self.segments)

    def started_at(self) -> datetime | None:
        return self.segments[0].started_at if self.segments else None

    def ended_at(self) -> datetime | None:
        return self.segments[-1].ended_at if self.segments else None

    def discontinuities(self) -> list[bool]:
        """Per segment: must a player reset its timestamps before it? After a pause of the
        program, and wherever numbering skips (a node restarted, recording was off a while)."""
        marks = []
        for i, segment in enumerate(self.segments):
            before = self.segments[i - 1] if i else None
            marks.append(
                before is not None
                and (segment.discontinuity or segment.sequence != before.sequence + 1)
            )
        return marks

    def position_of(self, sequence: int, offset: float) -> float | None:
        """Seconds from the start of the timeline of a point given as (segment, offset)."""
        for start, segment in zip(self.starts, self.segments, strict=True):
            if segment.sequence == sequence:
                return start + min(offset, segment.duration)
            if segment.sequence > sequence:
                return start  # that segment was trimmed away: the clip starts here now
        return None

    def locate(self, position: float) -> tuple[int, float]:
        """The (segment, offset into it) at `position` seconds; clamped into the timeline."""
        if not self.segments:
            raise ValueError("an empty timeline has no positions")
        at = max(0, bisect.bisect_right(self.starts, max(position, 0.0)) - 1)
        segment = self.segments[at]
        return segment.sequence, min(position - self.starts[at], segment.duration)

    def at_moment(self, moment: datetime) -> float | None:
        """Seconds into the replay of a wall-clock moment: None when the program was not being
        recorded then (before, after, or in a pause)."""
        for start, segment in zip(self.starts, self.segments, strict=True):
            if segment.started_at <= moment < segment.ended_at:
                return start + (moment - segment.started_at).total_seconds()
        return None

    def clamped(self, moment: datetime) -> float:
        """Like `at_moment`, but a moment outside the recording takes the nearest position:
        the start, the end, or where the program picked up again after a pause."""
        for start, segment in zip(self.starts, self.segments, strict=True):
            if moment < segment.ended_at:
                return start + max(0.0, (moment - segment.started_at).total_seconds())
        return self.duration

    def covering(self, span: Span) -> list[tuple[RecordedSegment, float]]:
        """The segments a span touches, each with its start on the timeline."""
        return [
            (segment, start)
            for start, segment in zip(self.starts, self.segments, strict=True)
            if start < span.end and start + segment.duration > span.start
        ]


def clip_span(timeline: Timeline, *, live: bool, start: float | None, duration: float) -> Span:
    """The stretch a clip asked for may take: of a live space the last `duration` seconds (at
    most 30); of a replay `duration` seconds from `start` (at most 60), inside the recording."""
    most = LIVE_CLIP_SECONDS if live and start is None else REPLAY_CLIP_SECONDS
    if not duration >= CLIP_MIN_SECONDS:
        raise Invalid("clip_too_short", f"A clip lasts at least {CLIP_MIN_SECONDS:g} s")
    if duration > most:
        raise Invalid("clip_too_long", f"A clip lasts at most {most:g} s here")
    if not timeline:
        raise Conflict("recording_empty", "Nothing has been recorded yet")
    if start is None:
        if not live:
            raise Invalid("clip_start_required", "Say where in the replay the clip starts")
        return Span(max(0.0, timeline.duration - duration), min(duration, timeline.duration))
    if start < 0 or start >= timeline.duration:
        raise Invalid("clip_out_of_range", "The clip starts outside the recording")
    return Span(start, min(duration, timeline.duration - start))


def trim_keeps(timeline: Timeline, seconds: float) -> list[RecordedSegment]:
    """The segments trimming the first `seconds` drops: those that end by then. Cuts fall on
    segment boundaries (2 s), the one at or before the asked moment."""
    if seconds <= 0:
        raise Invalid("invalid_trim", "Trim a positive number of seconds")
    if seconds >= timeline.duration:
        raise Invalid("trim_past_end", "That would trim the whole recording; delete it instead")
    return [
        segment
        for start, segment in zip(timeline.starts, timeline.segments, strict=True)
        if start + segment.duration <= seconds + 1e-6
    ]


@dataclass(frozen=True)
class SpeakerTurn:
    """Someone speaking, from `start` to `end` seconds of the replay."""

    account_id: str
    start: float
    end: float


def speaker_turns(
    reports: Sequence[tuple[datetime, Sequence[str]]], timeline: Timeline
) -> list[SpeakerTurn]:
    """Turns from the mixer's active-speaker reports (each names who is talking from then on),
    oldest first, placed on the replay's timeline; a turn still open at the end closes there."""
    turns: list[SpeakerTurn] = []
    talking: dict[str, float] = {}
    for moment, account_ids in sorted(reports, key=lambda r: r[0]):
        position = timeline.clamped(moment)
        now_talking = set(account_ids)
        for account_id in [a for a in talking if a not in now_talking]:
            turns.append(SpeakerTurn(account_id, talking.pop(account_id), position))
        for account_id in account_ids:
            talking.setdefault(account_id, position)
    turns += [SpeakerTurn(a, start, timeline.duration) for a, start in talking.items()]
    return sorted((t for t in turns if t.end > t.start), key=lambda t: (t.start, t.account_id))
