"""HLS playlist text and names (pure), the byte ranges the segment route honours, and the
segment store's atomic writes (fsync'd for recordings) and key checks."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.api.files import RangeNotSatisfiable, requested_range
from parley.media.playlist import (
    LowLatency,
    PartEntry,
    SegmentEntry,
    delivery_directives,
    live_playlist,
    part_key,
    part_name,
    segment_name,
    segment_sequence,
    target_duration,
)
from parley.media.recording_store import DurableSegmentStore
from parley.media.segment_store import FileSegmentStore

START = datetime(2026, 12, 3, 7, 0, 0, tzinfo=UTC)


def entries(first: int, count: int, duration: float = 2.005333) -> list[SegmentEntry]:
    return [
        SegmentEntry(n, duration, START + timedelta(seconds=(n - first) * duration))
        for n in range(first, first + count)
    ]


def test_a_live_playlist_lists_its_window_with_times_and_no_end() -> None:
    text = live_playlist(entries(41, 3), segment_seconds=2.0, ended=False)
    assert text == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        "#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-MEDIA-SEQUENCE:41\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:00.000Z\n"
        "#EXTINF:2.00533,\n"
        "seg-000041.ts\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:02.005Z\n"
        "#EXTINF:2.00533,\n"
        "seg-000042.ts\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:04.010Z\n"
        "#EXTINF:2.00533,\n"
        "seg-000043.ts\n"
    )


def test_an_ended_playlist_says_so_and_discontinuities_are_marked() -> None:
    window = entries(7, 2)
    window[1] = SegmentEntry(8, 1.5, START, discontinuity=True)
    text = live_playlist(window, segment_seconds=2.0, ended=True, discontinuity_sequence=2)
    lines = text.splitlines()
    assert lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:2" in lines
    assert lines[lines.index("#EXT-X-DISCONTINUITY") + 3] == "seg-000008.ts"


def test_an_empty_playlist_is_still_valid() -> None:
    assert live_playlist([], segment_seconds=2.0, ended=False).splitlines()[2:] == [
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]


def test_target_duration_covers_every_rounded_extinf() -> None:
    assert target_duration(entries(0, 3, 2.4), 2.0) == 2
    assert target_duration(entries(0, 3, 2.6), 2.0) == 3
    assert target_duration([], 2.5) == 3


def test_segment_names_are_strict() -> None:
    assert segment_name(123) == "seg-000123.ts"
    assert segment_sequence("seg-000123.ts") == 123
    assert segment_sequence("seg-1764745200.ts") == 1764745200
    for bad in (
        "seg-123.ts",
        "seg-0000123.ts",  # a leading zero we never write
        "seg-000123.ts/",
        "../seg-000123.ts",
        "seg-000123.ts%00",
        "seg-+00123.ts",
        "seg-000123.m3u8",
        "SEG-000123.TS",
        "seg-000123.ts\n",
    ):
        assert segment_sequence(bad) is None, bad
    with pytest.raises(ValueError):
        segment_name(-1)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=90-200", 100, (90, 99)),
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=5-2", 100, None),  # malformed: ignored, the whole file
        ("bytes=0-1,5-6", 100, None),  # several ranges: the whole file
        ("items=0-9", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=-", 100, None),
        ("bytes=+1-2", 100, None),
    ],
)
def test_requested_ranges(header: str | None, size: int, expected: tuple[int, int] | None) -> None:
    assert requested_range(header, size) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0"])
def test_ranges_past_the_end_are_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        requested_range(header, 100)


def test_the_store_writes_whole_files_and_refuses_keys_that_climb_out(tmp_path: Path) -> None:
    store = FileSegmentStore(tmp_path / "hls")
    store.write("space1", "seg-000001.ts", b"abc")
    store.write("space1", "seg-000001.ts", b"defg")
    assert store.read("space1", "seg-000001.ts") == b"defg"
    assert store.names("space1") == ["seg-000001.ts"]  # no temporary file left behind
    assert store.read("space1", "seg-000002.ts") is None
    assert store.streams() == ["space1"]
    for stream, name in (("..", "x"), ("space1", "../x"), ("a/b", "x"), ("space1", ".hidden")):
        with pytest.raises(ValueError):
            store.write(stream, name, b"")
    store.delete("space1", "seg-000001.ts")
    store.delete("space1", "seg-000001.ts")  # absent: fine
    store.delete("space1")
    assert store.streams() == []


def test_only_the_recordings_store_fsyncs_each_file_and_then_its_directory_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    fsync = os.fsync

    def noted(fd: int) -> None:
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        synced.append("temporary" if name.startswith(".writing-") else name)
        fsync(fd)

    monkeypatch.setattr(os, "fsync", noted)
    FileSegmentStore(tmp_path / "hls").write("space1", "seg-000001.ts", b"abc")
    assert synced == []
    durable = DurableSegmentStore(tmp_path / "recordings")
    durable.write("space1", "seg-000001.ts", b"abc")
    # The new stream's entry in the root, the file's bytes, then its name in the stream.
    assert synced == ["recordings", "temporary", "space1"]
    synced.clear()
    durable.write("space1", "seg-000002.ts", b"defg")
    assert synced == ["temporary", "space1"]
    assert durable.read("space1", "seg-000002.ts") == b"defg"
    assert durable.size("space1", "seg-000002.ts") == 4


def test_a_low_latency_playlist_lists_parts_before_their_segment_and_hints_the_next() -> None:
    parts = [PartEntry(42, i, 0.512) for i in range(4)] + [PartEntry(43, 0, 0.512)]
    text = live_playlist(
        entries(41, 2),
        segment_seconds=2.0,
        ended=False,
        low_latency=LowLatency(0.512, parts, PartEntry(43, 1, 0.0)),
    )
    lines = text.splitlines()
    assert lines[1:5] == [
        "#EXT-X-VERSION:6",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.536",
        "#EXT-X-PART-INF:PART-TARGET=0.51200",
    ]
    at = lines.index("seg-000042.ts")
    assert lines[at - 5] == '#EXT-X-PART:DURATION=0.51200,URI="seg-000042.0.ts",INDEPENDENT=YES'
    assert lines[at - 1].startswith("#EXTINF:")
    # The segment being made: its parts after the last complete segment, then the hint.
    assert lines[at + 1 :] == [
        '#EXT-X-PART:DURATION=0.51200,URI="seg-000043.0.ts",INDEPENDENT=YES',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-000043.1.ts"',
    ]
    # Ended: no part of a segment never finished, no hint.
    ended = live_playlist(
        entries(41, 2), segment_seconds=2.0, ended=True, low_latency=LowLatency(0.512, parts)
    )
    assert "seg-000043" not in ended and ended.endswith("#EXT-X-ENDLIST\n")


def test_part_names_are_strict() -> None:
    assert part_name(42, 3) == "seg-000042.3.ts"
    assert part_key("seg-000042.3.ts") == (42, 3)
    for name in ("seg-42.3.ts", "seg-000042.03.ts", "seg-000042..ts", "seg-000042.3.ts/x"):
        assert part_key(name) is None, name


def test_delivery_directives_are_decimal_and_part_needs_msn() -> None:
    assert delivery_directives(None, None) is None
    assert delivery_directives("17", None) == (17, None)
    assert delivery_directives("17", "0") == (17, 0)
    for msn, part in (("x", None), ("-1", None), ("1e3", None), (None, "1"), ("1", " 2")):
        with pytest.raises(ValueError):
            delivery_directives(msn, part)
