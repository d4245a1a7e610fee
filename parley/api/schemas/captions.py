"""Transcripts: a space's final captions as lines, and what a moderator's search finds."""

from __future__ import annotations

from pydantic import BaseModel

from parley.core.captions import TranscriptLine
from parley.core.transcripts import PlacedHit, PlacedLine, ReportTranscript


class TranscriptLineOut(BaseModel):
    speaker_id: str
    speaker_name: str
    text: str
    start: float  # seconds from the space's start
    end: float

    @classmethod
    def of(cls, line: TranscriptLine) -> TranscriptLineOut:
        return cls(
            speaker_id=line.speaker,
            speaker_name=line.speaker_name,
            text=line.text,
            start=line.start,
            end=line.end,
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
        line, at = placed.line, placed.replay_at
        return cls(
            **TranscriptLineOut.of(line).model_dump(),
            replay_at=None if at is None else round(at, 3),
            replay_link=None if at is None else replay_link(line.space_id, at),
        )


class TranscriptHitOut(BaseModel):
    space_id: str
    space_title: str
    line: PlacedLineOut

    @classmethod
    def of(cls, hit: PlacedHit) -> TranscriptHitOut:
        return cls(
            space_id=hit.placed.line.space_id,
            space_title=hit.space_title,
            line=PlacedLineOut.placed(hit.placed),
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
        return cls(
            report_id=found.report_id,
            space_id=found.space_id,
            space_title=found.space_title,
            at=None if found.at is None else round(found.at, 3),
            recorded=found.recorded,
            lines=[PlacedLineOut.placed(p) for p in found.lines],
        )
