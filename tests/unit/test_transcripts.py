"""A space's transcript placed on its recording's timeline, and the files of its subtitles
rendition: pure rules, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.captions import TranscriptLine, webvtt
from parley.core.recordings import RecordedSegment, Timeline
from parley.core.transcripts import on_replay, overlapping
from parley.media.vod import multivariant_playlist, subtitles_name, subtitles_sequence
from tests.support.webvtt import attributes, parse_webvtt

SPACE_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def segment(sequence: int, at: float, duration: float = 2.0) -> RecordedSegment:
    started = SPACE_START + timedelta(seconds=at)
    return RecordedSegment("s", sequence, started, duration, 1000, False)


def line(text: str, start: float, end: float) -> TranscriptLine:
    return TranscriptLine("s", "a1", "Alice", text, start, end)


def test_lines_move_onto_the_replay_past_its_start_and_its_pauses() -> None:
    # Recorded from 10 s into the space; the program paused between 14 s and 20 s.
    timeline = Timeline([segment(0, 10), segment(1, 12), segment(2, 20)])
    lines = [
        line("before the recording", 2, 5),
        line("across its start", 9, 11),
        line("in the first segment", 10.5, 11.5),
        line("in the pause", 15, 18),
        line("after the pause", 20.5, 21.5),
        line("after the end", 30, 31),
    ]
    placed = {x.text: (x.start, x.end) for x in on_replay(lines, SPACE_START, timeline)}
    assert placed == {
        "across its start": (0.0, 1.0),
        "in the first segment": (0.5, 1.5),
        "after the pause": (4.5, 5.5),
    }


def test_a_trimmed_start_moves_the_lines_with_the_audio() -> None:
    whole = Timeline([segment(0, 10), segment(1, 12), segment(2, 14)])
    trimmed = Timeline(whole.segments[1:])
    said = [line("early", 10.5, 11.5), line("late", 14.5, 15)]
    assert [(x.text, x.start) for x in on_replay(said, SPACE_START, whole)] == [
        ("early", 0.5),
        ("late", 4.5),
    ]
    assert [(x.text, x.start) for x in on_replay(said, SPACE_START, trimmed)] == [("late", 2.5)]


def test_a_subtitles_segment_maps_its_cues_onto_the_audio_segments_timestamps() -> None:
    lines = [line("one", 0.5, 1.5), line("two", 1.8, 3.0), line("three", 4.5, 5.0)]
    within = overlapping(lines, 2.0, 4.0)
    assert [x.text for x in within] == ["two"]
    text = webvtt(within, timestamp_map=(126_000, 2.0))
    parsed = parse_webvtt(text)
    assert parsed.timestamp_map == (126_000, 2.0)
    assert [(c.start, c.end, c.voice, c.text) for c in parsed.cues] == [(1.8, 3.0, "Alice", "two")]


def test_the_multivariant_playlist_names_the_audio_and_its_subtitles() -> None:
    lines = multivariant_playlist(bandwidth=70_123).splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "replay.m3u8"
    media = attributes(next(x for x in lines if x.startswith("#EXT-X-MEDIA:")))
    variant = attributes(lines[-2])
    assert media["TYPE"] == "SUBTITLES" and media["URI"] == "subtitles.m3u8"
    assert variant == {
        "BANDWIDTH": "70123",
        "CODECS": "mp4a.40.2",
        "SUBTITLES": media["GROUP-ID"],
    }
    assert subtitles_sequence(subtitles_name(42)) == 42
    for name in ("sub-42.vtt", "sub-000042.vtt/..", "seg-000042.ts", "transcript.vtt"):
        assert subtitles_sequence(name) is None
