"""HLS playlists and MPEG-TS segments read in tests: ffprobe, the playlist's lines, the audio."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import av
import numpy as np

from tests.support.audio import loudest_frequency


async def ffprobe(*args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "ffprobe", "-v", "error", "-of", "json", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert not err.strip(), f"ffprobe complained: {err.decode()}"
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def parse_playlist(text: str) -> tuple[int, list[tuple[str, float]], bool]:
    """(media sequence, [(segment, EXTINF seconds)], ended)."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    sequence = int(next(x for x in lines if x.startswith("#EXT-X-MEDIA-SEQUENCE:")).split(":")[1])
    target = int(next(x for x in lines if x.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
    segments = []
    for at, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            duration = float(line.removeprefix("#EXTINF:").rstrip(","))
            assert round(duration) <= target
            before = at - 1
            while lines[before].startswith("#EXT-X-PART:"):  # LL-HLS: its parts come first
                before -= 1
            assert lines[before].startswith("#EXT-X-PROGRAM-DATE-TIME:")
            segments.append((lines[at + 1], duration))
    return sequence, segments, "#EXT-X-ENDLIST" in lines


def vod_entries(text: str) -> list[tuple[str, float]]:
    """(segment, EXTINF seconds) of a playlist, in order."""
    lines = text.splitlines()
    return [
        (lines[at + 1], float(line.removeprefix("#EXTINF:").rstrip(",")))
        for at, line in enumerate(lines)
        if line.startswith("#EXTINF:")
    ]


def dominant_frequency(segment: bytes) -> float:
    """The tone heard most in an MPEG-TS segment (tests/support/audio.loudest_frequency)."""
    with av.open(io.BytesIO(segment), "r", format="mpegts") as container:
        pcm = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    return loudest_frequency(pcm)


def packet_span(segment: bytes) -> tuple[int, int]:
    """First pts and end pts (90 kHz) of a segment's audio packets."""
    with av.open(io.BytesIO(segment), "r", format="mpegts") as container:
        packets = [p for p in container.demux(audio=0) if p.pts is not None]
    return packets[0].pts or 0, (packets[-1].pts or 0) + (packets[-1].duration or 0)
