"""The rules of recordings: where segments sit on the replay's timeline, what a clip may take,
what trimming drops, and speakers' turns from the mixer's reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.core.errors import Conflict, Invalid
from parley.core.recordings import (
    RecordedSegment,
    Span,
    SpeakerTurn,
    Timeline,
    clip_span,
    speaker_turns,
    trim_keeps,
)

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def segment(
    sequence: int, at: float, duration: float = 2.0, *, jump: bool = False
) -> RecordedSegment:
    return RecordedSegment("s", sequence, T0 + timedelta(seconds=at), duration, 100, jump)


# 0-2, 2-4 s; then the program paused for 10 s and went on: 4-6 s of the replay is 14-16 s wall.
SEGMENTS = [segment(100, 0), segment(101, 2), segment(102, 14, jump=True)]


def test_a_pause_takes_no_time_in_the_replay_and_is_a_discontinuity() -> None:
    timeline = Timeline(list(reversed(SEGMENTS)))
    assert timeline.duration == 6.0
    assert timeline.starts == [0.0, 2.0, 4.0]
    assert timeline.discontinuities() == [False, False, True]
    assert Timeline([segment(1, 0), segment(3, 2)]).discontinuities() == [False, True]
    assert timeline.at_moment(T0 + timedelta(seconds=15)) == 5.0
    assert timeline.at_moment(T0 + timedelta(seconds=8)) is None  # in the pause
    assert timeline.clamped(T0 + timedelta(seconds=8)) == 4.0  # where it went on
    assert timeline.clamped(T0 - timedelta(seconds=8)) == 0.0
    assert timeline.clamped(T0 + timedelta(hours=1)) == 6.0
    assert timeline.locate(4.5) == (102, 0.5)
    assert timeline.position_of(102, 0.5) == 4.5
    assert timeline.covering(Span(1.0, 2.0)) == [(SEGMENTS[0], 0.0), (SEGMENTS[1], 2.0)]


def test_clips_are_at_most_30_s_live_and_60_s_of_a_replay_inside_the_recording() -> None:
    timeline = Timeline(SEGMENTS)
    assert clip_span(timeline, live=True, start=None, duration=30) == Span(0.0, 6.0)
    assert clip_span(timeline, live=True, start=None, duration=2) == Span(4.0, 2.0)
    assert clip_span(timeline, live=False, start=5.0, duration=60) == Span(5.0, 1.0)
    for live, start, duration, code in [
        (True, None, 31, "clip_too_long"),
        (False, 0.0, 61, "clip_too_long"),
        (False, 0.0, 0.5, "clip_too_short"),
        (False, None, 10, "clip_start_required"),
        (False, 6.0, 10, "clip_out_of_range"),
        (False, -1.0, 10, "clip_out_of_range"),
    ]:
        with pytest.raises(Invalid) as refused:
            clip_span(timeline, live=live, start=start, duration=duration)
        assert refused.value.code == code
    with pytest.raises(Conflict, match="Nothing"):
        clip_span(Timeline([]), live=True, start=None, duration=10)


def test_trimming_drops_whole_segments_up_to_the_asked_moment() -> None:
    timeline = Timeline(SEGMENTS)
    assert trim_keeps(timeline, 3.9) == SEGMENTS[:1]
    assert trim_keeps(timeline, 4.0) == SEGMENTS[:2]
    for seconds, code in [(0, "invalid_trim"), (6.0, "trim_past_end")]:
        with pytest.raises(Invalid) as refused:
            trim_keeps(timeline, seconds)
        assert refused.value.code == code


def test_speaker_turns_follow_the_mixers_reports_on_the_replays_timeline() -> None:
    timeline = Timeline(SEGMENTS)

    def at(seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    reports = [(at(1), ["ada"]), (at(1.5), ["ada", "bo"]), (at(3), ["bo"]), (at(3.5), []),
               (at(15), ["ada"])]  # fmt: skip
    assert speaker_turns(reports, timeline) == [
        SpeakerTurn("ada", 1.0, 3.0),
        SpeakerTurn("bo", 1.5, 3.5),
        SpeakerTurn("ada", 5.0, 6.0),  # still talking when the recording ends
    ]
