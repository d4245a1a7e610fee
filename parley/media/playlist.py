"""HLS names and playlist text (RFC 8216), pure: what a live space's program looks like as files.

Names are strict on purpose: the HTTP route accepts exactly what this module produces, so no
name a client sends can ever reach the storage as anything but one of our own file names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

LIVE_PLAYLIST = "live.m3u8"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"  # the registered type of MPEG-TS, audio-only included
# At least six digits; streams number from the clock's seconds (ten digits), hence up to twelve.
_SEGMENT_NAME = re.compile(r"seg-(\d{6,12})\.ts")


def segment_name(sequence: int) -> str:
    if sequence < 0:
        raise ValueError("a segment's sequence number is never negative")
    return f"seg-{sequence:06d}.ts"


def segment_sequence(name: str) -> int | None:
    """The sequence number in a segment's file name; None for anything that is not one of ours
    exactly as `segment_name` writes it (so `seg-1.ts`, `seg-000001.ts/..` are refused)."""
    match = _SEGMENT_NAME.fullmatch(name)
    if match is None or segment_name(int(match.group(1))) != name:
        return None
    return int(match.group(1))


@dataclass(frozen=True)
class SegmentEntry:
    """One segment as a playlist lists it."""

    sequence: int
    duration: float  # seconds
    started_at: datetime  # wall-clock time of its first sample (EXT-X-PROGRAM-DATE-TIME)
    # The first segment after the program restarted (its mixer stopped and started again):
    # its timestamps do not follow the previous segment's.
    discontinuity: bool = False

    @property
    def name(self) -> str:
        return segment_name(self.sequence)


def target_duration(segments: Sequence[SegmentEntry], segment_seconds: float) -> int:
    """EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer must not exceed it
    (RFC 8216, 4.3.3.1); never less than the configured segment length rounded up."""
    longest = max((round(s.duration) for s in segments), default=0)
    return max(1, math.ceil(segment_seconds - 1e-9), longest)


def live_playlist(
    segments: Sequence[SegmentEntry],
    *,
    segment_seconds: float,
    ended: bool,
    discontinuity_sequence: int = 0,
) -> str:
    """A sliding live playlist of `segments` (oldest first; the caller keeps the window), or the
    final one when `ended` (EXT-X-ENDLIST: players stop polling)."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{target_duration(segments, segment_seconds)}",
        f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence if segments else 0}",
    ]
    if discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    for segment in segments:
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(segment.started_at)}")
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(segment.name)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as RFC 8216 asks."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
