"""The program as HLS segments: AAC-LC in MPEG-TS, encoded once per space, off the mixer's clock.

Why MPEG-TS and not fragmented MP4: both play everywhere HLS plays (Safari natively, every other
browser through hls.js, which transmuxes TS), but each TS segment stands alone (its own PAT/PMT
and ADTS headers), so PyAV writes it with one short-lived muxer per segment and nothing else;
CMAF would need an init segment split out of the muxer's output by hand, and every segment would
depend on it.

One AAC encoder lives as long as the segmenter, and segments are cut between its packets, so
timestamps run on across segments without a gap: no encoder priming or padding at each boundary,
hence no click. Silence is audio too: the mixer hands over every tick, spoken or not, and ticks
that never came (a stalled loop, a full queue) are filled with silence, so the segments' timeline
keeps pace with the wall clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import io
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import av
import numpy as np
from av.container import OutputContainer
from av.stream import Stream

from parley.media.audio import SAMPLE_RATE, Pcm, pcm_to_frame, silence
from parley.media.playlist import SegmentEntry, segment_name
from parley.media.segment_store import SegmentStore

log = logging.getLogger(__name__)

BIT_RATE = 96_000  # AAC-LC stereo: transparent for speech, ~24 KB per 2 s segment
# The AAC encoder's priming: its first packet starts this many samples before the first input
# sample. Input is stamped this late so that packet timestamps start at zero.
AAC_PRIMING = 1024
# A gap in the mixer's timeline longer than this is filled only this far (a loop stalled that
# long has bigger problems; filling minutes of silence would only delay the live edge).
MAX_GAP_SAMPLES = 10 * SAMPLE_RATE
# Ticks waiting for the writer thread: 5 s at 20 ms. A slow disk drops ticks, never the mix.
QUEUE_TICKS = 250
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# Lets the muxer gather several AAC frames into one PES packet (up to ~0.5 s of audio) instead
# of one per 21 ms frame: a third less TS overhead. Timestamps all move by the same constant.
MUXER_OPTIONS = {"max_delay": "500000"}


@dataclass(frozen=True)
class EncodedSegment:
    index: int  # 0, 1, 2... on this segmenter's timeline
    start_sample: int  # timeline position of its first sample (priming included in the first)
    samples: int
    data: bytes

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


class AacSegmenter:
    """Program PCM in, whole MPEG-TS segments out; synchronous, no threads, no clock.

    `pts` is the mixer's media clock (samples at 48 kHz): any gap between what was pushed and
    the next `pts` is filled with silence, overlap is dropped.
    """

    def __init__(self, segment_seconds: float, bit_rate: int = BIT_RATE) -> None:
        self.segment_samples = round(segment_seconds * SAMPLE_RATE)
        if self.segment_samples < 2048:
            raise ValueError("segments must hold at least two AAC frames")
        encoder = av.CodecContext.create("aac", "w")
        assert isinstance(encoder, av.AudioCodecContext)
        encoder.sample_rate = SAMPLE_RATE
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = bit_rate
        encoder.time_base = TIME_BASE
        # FFmpeg's default "twoloop" coder costs ~2 ms per 20 ms of audio on one core here;
        # "fast" ~0.3 ms, and speech at 96 kb/s does not tell them apart.
        encoder.options = {"aac_coder": "fast"}
        encoder.open()
        self._encoder = encoder
        self._next_pts: int | None = None  # mixer pts expected next
        self._fed = 0  # samples given to the encoder so far
        self._index = 0
        self._buffer: io.BytesIO | None = None
        self._container: OutputContainer | None = None
        self._stream: Stream | None = None
        self._start = 0  # first packet pts of the open segment
        self._end = 0  # pts just after the last packet muxed

    def push(self, pcm: Pcm, pts: int) -> list[EncodedSegment]:
        if self._next_pts is None:
            self._next_pts = pts
        gap = pts - self._next_pts
        self._next_pts = max(self._next_pts, pts + len(pcm))
        done: list[EncodedSegment] = []
        if gap < 0:
            pcm = pcm[min(len(pcm), -gap) :]
        elif gap > 0:
            done += self._encode(silence(min(gap, MAX_GAP_SAMPLES)))
        if len(pcm):
            done += self._encode(pcm)
        return done

    def finish(self) -> list[EncodedSegment]:
        """Flush the encoder and close the last segment, however short."""
        done = self._mux(self._encoder.encode(None))
        if self._container is not None:
            done.append(self._close())
        return done

    def _encode(self, pcm: Pcm) -> list[EncodedSegment]:
        frame = pcm_to_frame(np.ascontiguousarray(pcm, dtype=np.int16), AAC_PRIMING + self._fed)
        self._fed += len(pcm)
        return self._mux(self._encoder.encode(frame))

    def _mux(self, packets: list[av.Packet[Any]]) -> list[EncodedSegment]:
        done: list[EncodedSegment] = []
        for packet in packets:
            # Read before muxing: the muxer rescales the packet to its own 90 kHz time base.
            pts = packet.pts if packet.pts is not None else self._end
            duration = packet.duration or 1024
            if self._container is not None and pts >= (self._index + 1) * self.segment_samples:
                done.append(self._close())
                self._index += 1
            if self._container is None:
                self._open(pts)
            packet.stream = self._stream
            assert self._container is not None
            self._container.mux(packet)
            self._end = pts + duration
        return done

    def _open(self, pts: int) -> None:
        self._buffer = io.BytesIO()
        container = av.open(self._buffer, "w", format="mpegts", container_options=MUXER_OPTIONS)
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        stream.bit_rate = self._encoder.bit_rate or BIT_RATE
        stream.time_base = TIME_BASE
        self._container, self._stream, self._start = container, stream, pts

    def _close(self) -> EncodedSegment:
        assert self._container is not None and self._buffer is not None
        self._container.close()
        segment = EncodedSegment(
            self._index, self._start, self._end - self._start, self._buffer.getvalue()
        )
        self._container = self._buffer = self._stream = None
        return segment


@dataclass
class SegmenterStats:
    segments_written: int = 0
    segments_dropped: int = 0  # encoded but not stored (the storage failed)
    ticks_dropped: int = 0  # program ticks the writer had no room for (filled with silence)
    encode_seconds: float = 0.0  # thread time encoding and muxing
    write_seconds: float = 0.0

    def add(self, other: SegmenterStats) -> None:
        self.segments_written += other.segments_written
        self.segments_dropped += other.segments_dropped
        self.ticks_dropped += other.ticks_dropped
        self.encode_seconds += other.encode_seconds
        self.write_seconds += other.write_seconds


_STOP = object()
# The writer thread's pace: segments are seconds long, a tenth of a second more is nothing.
BATCH_SECONDS = 0.1


def _contiguous(ticks: list[tuple[Pcm, int]]) -> list[tuple[Pcm, int]]:
    """Ticks that follow each other without a gap, joined into one block each."""
    runs: list[tuple[list[Pcm], int, int]] = []  # (parts, first pts, end pts)
    for pcm, pts in ticks:
        if runs and runs[-1][2] == pts:
            parts, first, _ = runs[-1]
            parts.append(pcm)
            runs[-1] = (parts, first, pts + len(pcm))
        else:
            runs.append(([pcm], pts, pts + len(pcm)))
    return [
        (np.concatenate(parts) if len(parts) > 1 else parts[0], first) for parts, first, _ in runs
    ]


class SequenceNumbers:
    """A stream's segment numbers, shared by the segmenters it has had: one stopping (its last
    segment still to store) and its successor never take the same number."""

    def __init__(self) -> None:
        self.next = 0
        self.lock = threading.Lock()


@dataclass(eq=False)
class LiveSegmenter:
    """One space's segmenter on a thread of its own, fed by the mixer's tick through a bounded
    queue: `offer` never blocks and costs a queue put, whatever the encoder or the disk do.

    Segments take consecutive numbers from `numbers` as they are stored; one that could not be
    stored gives its number to the next, marked as a discontinuity, so the playlist's numbering
    never has a hole. `on_segment` is called on the event loop.
    """

    stream: str
    store: SegmentStore
    segment_seconds: float
    on_segment: Callable[[SegmentEntry], None]
    clock: Callable[[], datetime]
    numbers: SequenceNumbers = field(default_factory=SequenceNumbers)
    discontinuity: bool = False  # the first segment does not follow the previous one
    keep: int = 0  # segments kept in the store, newest first; 0 keeps all
    queue_ticks: int = QUEUE_TICKS
    stats: SegmenterStats = field(default_factory=SegmenterStats)

    def __post_init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue(self.queue_ticks)
        self._thread = threading.Thread(target=self._run, name=f"hls-{self.stream}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._origin: datetime | None = None
        self._segmenter = AacSegmenter(self.segment_seconds)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    def offer(self, pcm: Pcm, pts: int) -> None:
        """The mixer's sink: called on every tick, with that tick's program."""
        if self._origin is None:
            self._origin = self.clock()
        try:
            self._queue.put_nowait((pcm, pts))
        except queue.Full:
            self.stats.ticks_dropped += 1

    async def stop(self) -> None:
        """Encode what is queued, store the last (short) segment, and end the thread."""
        if not self._thread.is_alive():
            return
        await asyncio.to_thread(self._queue.put, _STOP)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            # One wake-up per batch, not per tick: the thread takes the GIL from the event loop
            # five times a second instead of fifty, and the encoder gets longer frames.
            time.sleep(BATCH_SECONDS)
            with contextlib.suppress(queue.Empty):
                while len(batch) < self.queue_ticks:
                    batch.append(self._queue.get_nowait())
            stopping = any(item is _STOP for item in batch)
            ticks = [cast(tuple[Pcm, int], item) for item in batch if item is not _STOP]
            started = time.thread_time()
            done: list[EncodedSegment] = []
            try:
                for pcm, pts in _contiguous(ticks):
                    done += self._segmenter.push(pcm, pts)
                if stopping:
                    done += self._segmenter.finish()
            except Exception:
                log.exception("hls %s: encoding failed; the segment is lost", self.stream)
            self.stats.encode_seconds += time.thread_time() - started
            for segment in done:
                self._store(segment)

    def _store(self, segment: EncodedSegment) -> None:
        started = time.perf_counter()
        with self.numbers.lock:
            sequence = self.numbers.next
            try:
                self.store.write(self.stream, segment_name(sequence), segment.data)
            except Exception:
                log.exception("hls %s: could not store segment %d", self.stream, sequence)
                self.stats.segments_dropped += 1
                self.discontinuity = True
                return
            finally:
                self.stats.write_seconds += time.perf_counter() - started
            self.numbers.next = sequence + 1
        origin = self._origin or self.clock()
        entry = SegmentEntry(
            sequence=sequence,
            duration=segment.seconds,
            started_at=origin + timedelta(seconds=segment.start_sample / SAMPLE_RATE),
            discontinuity=self.discontinuity,
        )
        self.discontinuity = False
        if self.keep and entry.sequence >= self.keep:
            with contextlib.suppress(Exception):
                self.store.delete(self.stream, segment_name(entry.sequence - self.keep))
        self.stats.segments_written += 1
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                self._loop.call_soon_threadsafe(self.on_segment, entry)
