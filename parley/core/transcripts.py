"""A space's transcript placed on its recording: pure, no I/O.

Captions are timed from the space's start; a recording's timeline starts with its first kept
segment and skips the program's pauses (core/recordings.py). A line is placed through the wall
clock, as clips and speakers' turns are, so a trimmed start or a pause moves it where the audio
went: a line said before the recording's start, in a pause, or in a trimmed-away stretch is not
on the replay at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.core.captions import TranscriptLine
from parley.core.recordings import Timeline

# What a moderator sees of a space around a reported moment, either side.
REPORT_WINDOW_SECONDS = 120.0


def on_replay(
    lines: Sequence[TranscriptLine], space_started: datetime, timeline: Timeline
) -> list[TranscriptLine]:
    """The lines heard in the recording, their times in seconds of the replay, in order."""
    placed = []
    for line in lines:
        start = timeline.clamped(space_started + timedelta(seconds=line.start))
        end = timeline.clamped(space_started + timedelta(seconds=line.end))
        if end > start:
            placed.append(dataclasses.replace(line, start=start, end=end))
    return sorted(placed, key=lambda x: (x.start, x.end))


def overlapping(lines: Sequence[TranscriptLine], start: float, end: float) -> list[TranscriptLine]:
    """Lines (times on one timeline) heard at some point in [start, end)."""
    return [line for line in lines if line.start < end and line.end > start]


@dataclass(frozen=True)
class PlacedLine:
    """A line of a space's transcript (times from the space's start) and, when the recording
    holds it, where it is in the replay."""

    line: TranscriptLine
    replay_at: float | None


@dataclass(frozen=True)
class ReportTranscript:
    """What a moderator reads of a reported space: the lines around the reported moment."""

    report_id: str
    space_id: str
    space_title: str
    at: float | None  # the report's moment, seconds from the space's start (None: not live yet)
    recorded: bool  # a replay exists that the lines link into
    lines: tuple[PlacedLine, ...]


@dataclass(frozen=True)
class PlacedHit:
    """A moderator's search result: the line, its space's title, its place in the replay."""

    placed: PlacedLine
    space_title: str
