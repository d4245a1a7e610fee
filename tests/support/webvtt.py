"""A strict WebVTT reader for tests (W3C WebVTT, the parts Parley writes): the signature, header
lines (HLS's X-TIMESTAMP-MAP), then cues, each an optional identifier, a timing line and at
least one line of text; anything else fails the test instead of being skipped as a lenient
player would. And the HLS playlists the subtitles rendition is made of."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"{_STAMP} --> {_STAMP}")
_VOICE = re.compile(r"<v ([^>]+)>(.*)")
_MAP = re.compile(r"X-TIMESTAMP-MAP=MPEGTS:(\d+),LOCAL:" + _STAMP)


@dataclass(frozen=True)
class Cue:
    identifier: str | None
    start: float
    end: float
    voice: str | None
    text: str


@dataclass(frozen=True)
class WebVtt:
    timestamp_map: tuple[int, float] | None  # (MPEG-TS at 90 kHz, the cue time it plays at)
    cues: list[Cue]


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    # Summed in whole milliseconds and divided once, so 00:00:03.353 is the float 3.353, as the
    # JSON of the same line rounds it (3 + 0.353 is 3.3529999999999998).
    millis_total = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)
    return millis_total / 1000


def parse_webvtt(text: str) -> WebVtt:
    assert "\r" not in text and "\0" not in text
    blocks = text.split("\n\n")
    header = blocks[0].rstrip("\n").split("\n")
    assert header[0] == "WEBVTT", f"no signature: {header[0]!r}"
    timestamp_map = None
    for line in header[1:]:
        matched = _MAP.fullmatch(line)
        assert matched is not None, f"not a header line Parley writes: {line!r}"
        timestamp_map = (int(matched.group(1)), _seconds(*matched.groups()[1:]))
    cues: list[Cue] = []
    for block in blocks[1:]:
        lines = block.strip("\n").split("\n") if block.strip("\n") else []
        if not lines:
            continue
        identifier = None
        if "-->" not in lines[0]:
            identifier, lines = lines[0], lines[1:]
        assert lines, f"a cue without timing: {block!r}"
        timing = _TIMING.fullmatch(lines[0])
        assert timing is not None, f"bad timing line: {lines[0]!r}"
        start, end = _seconds(*timing.groups()[:4]), _seconds(*timing.groups()[4:])
        assert end > start, f"a cue ends before it starts: {lines[0]!r}"
        payload = lines[1:]
        assert payload and all(p and "-->" not in p for p in payload), f"bad cue text: {block!r}"
        said = " ".join(payload)
        assert "<" not in _VOICE.sub(r"\2", said), f"markup other than a voice: {said!r}"
        voice = _VOICE.fullmatch(said)
        cues.append(
            Cue(identifier, start, end, voice.group(1) if voice else None,
                voice.group(2) if voice else said)
        )  # fmt: skip
    starts = [c.start for c in cues]
    assert starts == sorted(starts), "cues are not in order of their start"
    return WebVtt(timestamp_map, cues)


@dataclass(frozen=True)
class MediaPlaylist:
    entries: list[tuple[str, float, bool]]  # (URI, EXTINF seconds, after a discontinuity)
    target_duration: int
    ended: bool


def parse_media_playlist(text: str) -> MediaPlaylist:
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "#EXTM3U"
    target = next(int(x.split(":")[1]) for x in lines if x.startswith("#EXT-X-TARGETDURATION:"))
    entries: list[tuple[str, float, bool]] = []
    discontinuity = False
    for at, line in enumerate(lines):
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXTINF:"):
            seconds = float(line.removeprefix("#EXTINF:").rstrip(","))
            assert round(seconds) <= target, "an EXTINF longer than the target duration"
            entries.append((lines[at + 1], seconds, discontinuity))
            discontinuity = False
    return MediaPlaylist(entries, target, lines[-1] == "#EXT-X-ENDLIST")


def attributes(line: str) -> dict[str, str]:
    """The attribute list of an HLS tag line, quoted values unquoted."""
    _, _, rest = line.partition(":")
    found = re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', rest)
    return {key: value.strip('"') for key, value in found}
