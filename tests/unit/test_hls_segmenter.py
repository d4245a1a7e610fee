"""The HLS segmenter with synthetic program PCM, no server: segment lengths, timestamps that run
on across segments without a gap or a click, silence where ticks are missing, and the writer
thread that never blocks the mixer's tick (drops and counts instead)."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from parley.media.audio import SAMPLE_RATE, Pcm
from parley.media.live_segmenter import LiveSegmenter
from parley.media.playlist import SegmentEntry, segment_name
from parley.media.segment_store import FileSegmentStore
from parley.media.segmenter import AAC_PRIMING, AacSegmenter, EncodedSegment

TICK = 960
TONE = 440.0
AAC_FRAME = 1024


def tone(ticks: int, start_tick: int = 0, frequency: float = TONE) -> list[tuple[Pcm, int]]:
    """(pcm, pts) per 20 ms tick of a continuous sine, pts as the mixer stamps them."""
    out = []
    for tick in range(start_tick, start_tick + ticks):
        t = (np.arange(TICK) + tick * TICK) / SAMPLE_RATE
        mono = (8000 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
        out.append((np.stack([mono, mono], axis=1), (tick + 1) * TICK))
    return out


def decode(segments: list[EncodedSegment]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Mono PCM of the segments played one after the other by one decoder (as a player does:
    AAC frames overlap, so a decoder started afresh on each segment would click), and each
    segment's (first pts, end pts) in its own MPEG-TS timestamps (90 kHz)."""
    spans = []
    for segment in segments:
        with av.open(io.BytesIO(segment.data), "r", format="mpegts") as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "aac"
            assert stream.codec_context.profile == "LC"
            pts = [(p.pts, p.duration or 0) for p in container.demux(stream) if p.pts is not None]
            spans.append((pts[0][0], pts[-1][0] + pts[-1][1]))
    joined = b"".join(s.data for s in segments)
    with av.open(io.BytesIO(joined), "r", format="mpegts") as container:
        pcm = [f.to_ndarray()[0] for f in container.decode(audio=0)]  # planar: left channel
    return np.concatenate(pcm), spans


def run(segmenter: AacSegmenter, ticks: list[tuple[Pcm, int]]) -> list[EncodedSegment]:
    done = []
    for pcm, pts in ticks:
        done += segmenter.push(pcm, pts)
    return done + segmenter.finish()


def test_segments_have_the_set_length_and_timestamps_run_on_without_gaps() -> None:
    segments = run(AacSegmenter(2.0), tone(7 * 50))  # 7 s
    assert [s.index for s in segments] == [0, 1, 2, 3]
    for segment in segments[:-1]:
        # Cut between 1024-sample AAC frames: within one frame of 2 s.
        assert abs(segment.seconds - 2.0) <= AAC_FRAME / SAMPLE_RATE
        assert segment.samples % AAC_FRAME == 0
    for before, after in itertools.pairwise(segments):
        assert before.start_sample + before.samples == after.start_sample
    total = sum(s.samples for s in segments)
    assert 7 * SAMPLE_RATE + AAC_PRIMING <= total < 7 * SAMPLE_RATE + AAC_PRIMING + 2 * AAC_FRAME

    _pcm, spans = decode(segments)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start == end, "each segment starts where the one before ended (90 kHz ticks)"
    for (start, end), segment in zip(spans[:-1], segments, strict=False):
        assert end - start == segment.samples * 90_000 // SAMPLE_RATE


def test_no_click_where_one_segment_ends_and_the_next_begins() -> None:
    segments = run(AacSegmenter(1.0), tone(4 * 50))
    pcm, _ = decode(segments)
    boundaries = np.cumsum([s.samples for s in segments])[:-1]
    # A 440 Hz sine at 8000/32768 moves at most 2*pi*440/48000*0.244 ≈ 0.014 per sample; a
    # click (a gap, a restart of the encoder) jumps much further. The codec adds some noise.
    steps = np.abs(np.diff(pcm))
    normal = float(np.percentile(steps[AAC_FRAME * 4 :], 99.9))
    for at in boundaries:
        around = steps[at - 64 : at + 64]
        assert around.max() <= normal * 1.5, f"a jump at the boundary at sample {at}"
    # And the tone is the tone throughout.
    spectrum = np.abs(np.fft.rfft(pcm[AAC_FRAME * 2 :] * np.hanning(len(pcm) - AAC_FRAME * 2)))
    freqs = np.fft.rfftfreq(len(pcm) - AAC_FRAME * 2, 1 / SAMPLE_RATE)
    assert abs(freqs[spectrum.argmax()] - TONE) < 2


def test_missing_ticks_become_silence_and_the_timeline_keeps_pace() -> None:
    ticks = tone(4 * 50)
    kept = ticks[:75] + ticks[125:]  # one second never came (a stalled loop, a full queue)
    segments = run(AacSegmenter(2.0), kept)
    total = sum(s.samples for s in segments)
    assert total >= 4 * SAMPLE_RATE + AAC_PRIMING, "the missing second is there, as silence"
    pcm, _ = decode(segments)
    gap = pcm[AAC_PRIMING + 76 * TICK : AAC_PRIMING + 124 * TICK]
    assert np.abs(gap).max() < 0.01
    assert np.abs(pcm[AAC_PRIMING + 10 * TICK : AAC_PRIMING + 70 * TICK]).max() > 0.2


def test_overlapping_audio_is_dropped_not_added() -> None:
    ticks = tone(3 * 50)
    doubled = ticks[:50] + ticks[40:]  # ten ticks again, with the pts they had
    assert sum(s.samples for s in run(AacSegmenter(2.0), doubled)) == sum(
        s.samples for s in run(AacSegmenter(2.0), ticks)
    )


class BlockingStore(FileSegmentStore):
    """A disk that hangs until released, then fails its first `failures` writes."""

    def __init__(self, root: Path, failures: int = 0) -> None:
        super().__init__(root)
        self.release = threading.Event()
        self.release.set()
        self.failures = failures

    def write(self, stream: str, name: str, data: bytes) -> None:
        self.release.wait(10)
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        super().write(stream, name, data)


def clock() -> datetime:
    return datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


async def feed(segmenter: LiveSegmenter, ticks: list[tuple[Pcm, int]]) -> float:
    """Offer every tick as the mixer would (without waiting 20 ms); the slowest offer."""
    slowest = 0.0
    for pcm, pts in ticks:
        started = time.perf_counter()
        segmenter.offer(pcm, pts)
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


async def test_the_writer_stores_numbered_segments_and_forgets_old_ones(tmp_path: Path) -> None:
    store = FileSegmentStore(tmp_path)
    told: list[SegmentEntry] = []
    segmenter = LiveSegmenter("space1", store, 1.0, told.append, clock, keep=3)
    segmenter.numbers.next = 100
    segmenter.start()
    await feed(segmenter, tone(5 * 50))
    await segmenter.stop()
    await asyncio.sleep(0)  # the last on_segment comes through the loop
    assert [e.sequence for e in told] == [100, 101, 102, 103, 104, 105]
    assert store.names("space1") == [segment_name(n) for n in (103, 104, 105)]
    assert told[1].started_at > told[0].started_at
    assert not any(e.discontinuity for e in told)
    assert segmenter.stats.segments_written == 6
    assert segmenter.stats.encode_seconds > 0


async def test_a_failed_write_gives_its_number_to_the_next_segment(tmp_path: Path) -> None:
    store = BlockingStore(tmp_path, failures=1)
    told: list[SegmentEntry] = []
    segmenter = LiveSegmenter("space1", store, 1.0, told.append, clock)
    segmenter.start()
    await feed(segmenter, tone(3 * 50))
    await segmenter.stop()
    await asyncio.sleep(0)
    assert [e.sequence for e in told] == [0, 1, 2]  # of four segments, the first was lost
    assert told[0].discontinuity, "its timestamps do not follow anything listed before"
    assert segmenter.stats.segments_dropped == 1


async def test_a_slow_disk_never_blocks_the_tick_it_drops_and_counts(tmp_path: Path) -> None:
    store = BlockingStore(tmp_path)
    store.release.clear()
    segmenter = LiveSegmenter("space1", store, 1.0, lambda _: None, clock, queue_ticks=20)
    segmenter.start()
    slowest = await feed(segmenter, tone(3 * 50))
    assert segmenter.stats.ticks_dropped > 0
    # The disk hangs for 10 s: an offer that waited on it would take that long. The bound
    # tells waiting from not waiting without timing the CPU, which a collector pause in a busy
    # test process stretched past 5 ms once (CI, 2026-12-04).
    assert slowest < 1.0, f"an offer took {slowest * 1000:.2f} ms: it waited on the disk"
    store.release.set()
    await segmenter.stop()


@pytest.mark.parametrize("seconds", [0.01, 0.04])
def test_segments_too_short_for_aac_are_refused(seconds: float) -> None:
    with pytest.raises(ValueError):
        AacSegmenter(seconds)
