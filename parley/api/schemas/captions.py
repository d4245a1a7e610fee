"""Transcripts: a space's final captions as lines, and what a moderator's search finds."""

from __future__ import annotations

from pydantic import BaseModel

from parley.api.schemas.common import from_record
from parley.core.captions import TranscriptLine, to_millis
from parley.core.transcripts import PlacedHit, PlacedLine, ReportTranscript


def _seconds(seconds: float) -> float:
    # To the millisecond as the WebVTT renders it, so a line's time reads the same in both.
    return to_millis(seconds) / 1000


class TranscriptLineOut(BaseModel):
    speaker_id: str
    speaker_name: str
    text: str
    start: float  # seconds from the space's start
    end: float

    @classmethod
    def of(cls, line: TranscriptLine) -> TranscriptLineOut:
        return from_record(
            cls, line, speaker_id=line.speaker, start=_seconds(line.start), end=_seconds(line.end)
        )


def replay_link(space_id: str, at: float) -> str:
    """The replay page, playing from `at` seconds of the recording."""
    return f"/#/spaces/{space_id}/replay?t={at:.1f}"


class PlacedLineOut(TranscriptLineOut):
    # Where the line is in the recording, and the replay page from there; null when the
    # space was not recorded then (or its recording was deleted).
    replay_at: float | None
    replay_link: str | None

    @classmethod
    def placed(cls, placed: PlacedLine) -> PlacedLineOut:
        line = placed.line
        at = None if placed.replay_at is None else _seconds(placed.replay_at)
        return cls(
            **TranscriptLineOut.of(line).model_dump(),
            replay_at=at,
            # From the time it states: 1.3499 s linked to 1.3 while the line said 1.350.
            replay_link=None if at is None else replay_link(line.space_id, at),
        )


class TranscriptHitOut(BaseModel):
    space_id: str
    space_title: str
    line: PlacedLineOut

    @classmethod
    def of(cls, hit: PlacedHit) -> TranscriptHitOut:
        placed = hit.placed
        return from_record(
            cls, hit, space_id=placed.line.space_id, line=PlacedLineOut.placed(placed)
        )


class ReportTranscriptOut(BaseModel):
    report_id: str
    space_id: str
    space_title: str
    at: float | None  # the reported moment, seconds from the space's start
    recorded: bool
    lines: list[PlacedLineOut]

    @classmethod
    def of(cls, found: ReportTranscript) -> ReportTranscriptOut:
        # Not a cue's time: a report filed before the space started is before 0.
        at = None if found.at is None else round(found.at, 3)
        return from_record(cls, found, at=at, lines=[PlacedLineOut.placed(p) for p in found.lines])
