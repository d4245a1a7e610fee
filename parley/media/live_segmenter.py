"""The segmenter of one live space, on a thread of its own beside the mixer: ticks in through a
bounded queue, segments to the store and parts (LL-HLS) to the event loop, numbered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

import numpy as np

from parley.media.audio import SAMPLE_RATE, Pcm
from parley.media.playlist import PartEntry, SegmentEntry, segment_name
from parley.media.segment_store import SegmentStore
from parley.media.segmenter import AacSegmenter, EncodedPart, EncodedSegment

log = logging.getLogger(__name__)

# Ticks waiting for the writer thread: 5 s at 20 ms. A slow disk drops ticks, never the mix.
QUEUE_TICKS = 250


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

    Segments take consecutive numbers from `numbers`: a segment's number is taken when its
    first part is made (parts are named after it), or when it is stored if there are no parts.
    One that could not be stored gives its number to the next, marked as a discontinuity, so
    the playlist's numbering never has a hole (the next segment's parts replace its parts).
    `on_segment` and `on_part` are called on the event loop; parts stay in memory (they live a
    few seconds, and only the playlist that lists them, in memory too, names them).
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
    part_seconds: float = 0.0  # 0: no LL-HLS parts
    on_part: Callable[[PartEntry, bytes], None] = lambda _entry, _data: None

    def __post_init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue(self.queue_ticks)
        self._thread = threading.Thread(target=self._run, name=f"hls-{self.stream}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._origin: datetime | None = None
        self._segmenter = AacSegmenter(self.segment_seconds, part_seconds=self.part_seconds)
        self._reserved: int | None = None  # the number of the segment being made

    @property
    def part_target(self) -> float:
        return self._segmenter.part_target

    @property
    def parts_per_segment(self) -> tuple[int, int]:
        """(fewest, most) parts a segment has."""
        return self._segmenter.parts_per_segment

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
            try:
                for pcm, pts in _contiguous(ticks):
                    self._segmenter.push(pcm, pts)
                if stopping:
                    self._segmenter.finish()
            except Exception:
                log.exception("hls %s: encoding failed; the segment is lost", self.stream)
            made = self._segmenter.drain()
            self.stats.encode_seconds += time.thread_time() - started
            for item in made:
                if isinstance(item, EncodedPart):
                    self._publish_part(item)
                else:
                    self._store(item)

    def _sequence(self) -> int:
        if self._reserved is None:
            with self.numbers.lock:
                self._reserved = self.numbers.next
                self.numbers.next += 1
        return self._reserved

    def _tell(self, callback: Callable[..., None], *args: object) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                self._loop.call_soon_threadsafe(callback, *args)

    def _publish_part(self, part: EncodedPart) -> None:
        self._tell(self.on_part, PartEntry(self._sequence(), part.index, part.seconds), part.data)

    def _store(self, segment: EncodedSegment) -> None:
        started = time.perf_counter()
        sequence = self._sequence()
        try:
            self.store.write(self.stream, segment_name(sequence), segment.data)
        except Exception:
            log.exception("hls %s: could not store segment %d", self.stream, sequence)
            self.stats.segments_dropped += 1
            self.discontinuity = True
            return
        finally:
            self.stats.write_seconds += time.perf_counter() - started
        self._reserved = None
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
        self._tell(self.on_segment, entry)
