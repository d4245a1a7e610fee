"""Transcripts: a space's final captions as lines, and what a moderator's search finds."""

from __future__ import annotations

from pydantic import BaseModel

from parley.core.captions import TranscriptHit, TranscriptLine


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


class TranscriptHitOut(BaseModel):
    space_id: str
    space_title: str
    line: TranscriptLineOut

    @classmethod
    def of(cls, hit: TranscriptHit) -> TranscriptHitOut:
        return cls(
            space_id=hit.line.space_id,
            space_title=hit.space_title,
            line=TranscriptLineOut.of(hit.line),
        )
