"""A recording as files a player takes: its VOD playlist (RFC 8216, EXT-X-PLAYLIST-TYPE) and
single files (the whole replay, a clip) remuxed from its MPEG-TS segments into M4A (AAC in
MP4) with PyAV, without decoding or encoding a sample: cuts fall between 21 ms AAC frames.
"""

from __future__ import annotations

import fractions
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.stream import Stream

REPLAY_PLAYLIST = "replay.m3u8"
# The multivariant playlist: the audio above with the transcript as a subtitles rendition.
MULTIVARIANT_PLAYLIST = "master.m3u8"
SUBTITLES_PLAYLIST = "subtitles.m3u8"
SUBTITLES_TYPE = "text/vtt; charset=utf-8"
SUBTITLES_GROUP = "transcript"
# A subtitles segment per audio segment (same number, same length), so each one can map its
# cue times onto that segment's MPEG-TS timestamps, discontinuities included.
_SUBTITLES_NAME = re.compile(r"sub-(\d{6,12})\.vtt")
DOWNLOAD_TYPE = "audio/mp4"
AAC_FRAME = 1024  # samples per AAC-LC frame
TS_CLOCK = 90_000  # MPEG-TS timestamps tick at 90 kHz


@dataclass(frozen=True)
class VodEntry:
    name: str
    duration: float
    discontinuity: bool


def vod_playlist(entries: Sequence[VodEntry], *, ended: bool) -> str:
    """The whole recording. VOD once it is final (EXT-X-ENDLIST: seekable from end to end);
    while the space still records, EVENT (segments are only ever added)."""
    # Every EXTINF, rounded to the nearest integer, must not exceed it (RFC 8216, 4.3.3.1).
    longest = max((round(e.duration) for e in entries), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{max(1, longest)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        f"#EXT-X-PLAYLIST-TYPE:{'VOD' if ended else 'EVENT'}",
    ]
    for entry in entries:
        if entry.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXTINF:{entry.duration:.5f},")
        lines.append(entry.name)
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def multivariant_playlist(*, bandwidth: int, language: str = "en") -> str:
    """The audio playlist as the one variant, with the transcript as its subtitles (not shown
    unless asked for: the replay page lists the transcript itself)."""
    return (
        "\n".join(
            [
                "#EXTM3U",
                "#EXT-X-VERSION:3",
                "#EXT-X-INDEPENDENT-SEGMENTS",
                f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{SUBTITLES_GROUP}",NAME="Transcript",'
                f'LANGUAGE="{language}",DEFAULT=NO,AUTOSELECT=YES,URI="{SUBTITLES_PLAYLIST}"',
                f'#EXT-X-STREAM-INF:BANDWIDTH={max(1, bandwidth)},CODECS="mp4a.40.2",'
                f'SUBTITLES="{SUBTITLES_GROUP}"',
                REPLAY_PLAYLIST,
            ]
        )
        + "\n"
    )


def subtitles_name(sequence: int) -> str:
    return f"sub-{sequence:06d}.vtt"


def subtitles_sequence(name: str) -> int | None:
    """The audio segment a subtitles segment's name is for; None if it is not one exactly."""
    match = _SUBTITLES_NAME.fullmatch(name)
    if match is None or subtitles_name(int(match.group(1))) != name:
        return None
    return int(match.group(1))


def first_timestamp(data: bytes) -> int:
    """The MPEG-TS timestamp (90 kHz) of a segment's first audio packet."""
    with av.open(io.BytesIO(data), "r", format="mpegts") as container:
        stream = container.streams.audio[0]
        base = stream.time_base or fractions.Fraction(1, TS_CLOCK)
        for packet in container.demux(stream):
            if packet.pts is not None:
                return round(packet.pts * base * TS_CLOCK)
    raise ValueError("a segment without a timestamped audio packet")


def segment_seconds(data: bytes) -> float:
    """How long a stored segment plays: its AAC frames, counted (no decoding)."""
    with av.open(io.BytesIO(data), "r", format="mpegts") as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or 48_000
        frames = sum(1 for p in container.demux(stream) if p.size)
    return frames * AAC_FRAME / rate


def remux_m4a(parts: Iterable[tuple[bytes, float]], start: float, end: float) -> bytes:
    """The audio between `start` and `end` seconds of a timeline, as one M4A file. `parts` are
    segments with their start on the timeline, in order; a frame is kept when it begins in the
    span. Timestamps are rewritten to run on without a gap across segments (each of which may
    come from another encoder run, starting again from zero)."""
    out = io.BytesIO()
    # No faststart: it re-reads the output by file name, which a memory buffer has none of.
    # Players fetch the index at the end with a Range request, which every route here serves.
    container: OutputContainer = av.open(out, "w", format="ipod")
    stream: Stream | None = None
    next_pts = 0
    try:
        for data, at in parts:
            with av.open(io.BytesIO(data), "r", format="mpegts") as source:
                audio = source.streams.audio[0]
                base = audio.time_base or fractions.Fraction(1, TS_CLOCK)
                first: int | None = None
                for packet in source.demux(audio):
                    if packet.pts is None or not packet.size:
                        continue
                    first = packet.pts if first is None else first
                    moment = at + float((packet.pts - first) * base)
                    if moment < start - 1e-6 or moment >= end - 1e-6:
                        continue
                    if stream is None:
                        stream = container.add_stream_from_template(audio)
                    duration = packet.duration or int(AAC_FRAME / 48_000 / float(base))
                    packet.pts = packet.dts = next_pts
                    packet.duration = duration
                    next_pts += duration
                    packet.stream = cast(AudioStream, stream)
                    container.mux(packet)
    finally:
        container.close()
    return out.getvalue() if stream is not None else b""
