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
# A part (LL-HLS): the segment's number, then the part's index within it.
_PART_NAME = re.compile(r"seg-(\d{6,12})\.(\d{1,3})\.ts")


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


def part_name(sequence: int, index: int) -> str:
    return f"{segment_name(sequence)[:-3]}.{index}.ts"


def part_key(name: str) -> tuple[int, int] | None:
    """(segment sequence, part index) of a part's file name exactly as `part_name` writes it."""
    match = _PART_NAME.fullmatch(name)
    if match is None:
        return None
    key = int(match.group(1)), int(match.group(2))
    return key if part_name(*key) == name else None


_DECIMAL = re.compile(r"\d{1,18}")


def delivery_directives(msn: str | None, part: str | None) -> tuple[int, int | None] | None:
    """The blocking reload a player asks for with `_HLS_msn` and `_HLS_part` (RFC 8216bis
    6.2.5.2): None for a plain reload. ValueError for what the spec says to refuse with 400:
    a value that is not a decimal integer, or `_HLS_part` without `_HLS_msn`."""
    if msn is None:
        if part is not None:
            raise ValueError("_HLS_part needs _HLS_msn")
        return None
    if not _DECIMAL.fullmatch(msn) or (part is not None and not _DECIMAL.fullmatch(part)):
        raise ValueError("_HLS_msn and _HLS_part are decimal integers")
    return int(msn), None if part is None else int(part)


@dataclass(frozen=True)
class PartEntry:
    """One part (LL-HLS partial segment) of a segment, as a playlist lists it."""

    sequence: int  # its segment's
    index: int  # 0, 1, 2... within the segment
    duration: float  # seconds

    @property
    def name(self) -> str:
        return part_name(self.sequence, self.index)


@dataclass(frozen=True)
class LowLatency:
    """What an LL-HLS playlist adds: the parts of its latest segments (those of the segment
    still being made last), and the part a player may ask for before it exists."""

    part_target: float  # seconds: no part is longer
    parts: Sequence[PartEntry]  # oldest first
    preload_hint: PartEntry | None = None

    @property
    def part_hold_back(self) -> float:
        # RFC 8216bis 4.4.3.8: at least three times the part target.
        return 3 * self.part_target


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
    low_latency: LowLatency | None = None,
) -> str:
    """A sliding live playlist of `segments` (oldest first; the caller keeps the window), or the
    final one when `ended` (EXT-X-ENDLIST: players stop polling). With `low_latency`, the parts
    of the latest segments and of the one being made (RFC 8216bis, LL-HLS), and the server's
    promise to hold a reload until the part asked for exists (blocking reload)."""
    ll = low_latency
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{3 if ll is None else 6}",
        f"#EXT-X-TARGETDURATION:{target_duration(segments, segment_seconds)}",
    ]
    if ll is not None:
        lines += [
            f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={ll.part_hold_back:.3f}",
            f"#EXT-X-PART-INF:PART-TARGET={ll.part_target:.5f}",
        ]
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{segments[0].sequence if segments else 0}")
    if discontinuity_sequence:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{discontinuity_sequence}")
    parts: dict[int, list[PartEntry]] = {}
    for part in ll.parts if ll is not None else ():
        parts.setdefault(part.sequence, []).append(part)
    listed = {s.sequence for s in segments}
    for segment in segments:
        if segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(segment.started_at)}")
        lines += [_part_line(p) for p in parts.get(segment.sequence, ())]
        lines.append(f"#EXTINF:{segment.duration:.5f},")
        lines.append(segment.name)
    if not ended and ll is not None:
        # The segment being made: its parts so far, and the next one's name.
        last = segments[-1].sequence if segments else None
        lines += [
            _part_line(p)
            for p in ll.parts
            if p.sequence not in listed and (last is None or p.sequence > last)
        ]
        if ll.preload_hint is not None:
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{ll.preload_hint.name}"')
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _part_line(part: PartEntry) -> str:
    # Every AAC frame decodes on its own: each part is independent.
    return f'#EXT-X-PART:DURATION={part.duration:.5f},URI="{part.name}",INDEPENDENT=YES'


def _iso(moment: datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as RFC 8216 asks."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
