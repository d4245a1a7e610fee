"""One space's live HLS stream as this node serves it: the sliding window of segments, the parts
(LL-HLS) of the latest ones, and the waiting of blocking playlist reloads for a part or segment
that does not exist yet (RFC 8216bis 6.2.5.2).

Parts live here, in memory: each is needed for a few seconds, by the playlist that lists it
(in memory too), and a few hundred bytes to kilobytes long.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from parley.media.live_segmenter import LiveSegmenter, SequenceNumbers
from parley.media.mixer import Mixer
from parley.media.playlist import LowLatency, PartEntry, SegmentEntry

# Parts are listed for the segment being made and the two before it (RFC 8216bis 6.2.2: parts
# older than three target durations from the live edge go), and kept three segments longer:
# a cache may serve the answer to a blocking reload for three target durations
# (BLOCKING_CACHE in hls.py), and every part it lists must still be there.
LISTED_PART_SEGMENTS = 2
KEPT_PART_SEGMENTS = 6


@dataclass(eq=False)
class LiveStream:
    space_id: str
    window: deque[SegmentEntry]
    numbers: SequenceNumbers = field(default_factory=SequenceNumbers)
    # Discontinuities that slid out of the window (EXT-X-DISCONTINUITY-SEQUENCE).
    discontinuity_sequence: int = 0
    ended_at: datetime | None = None
    # With no mixer here: when the sweep last asked whether the space is still live.
    checked_at: datetime | None = None
    segmenter: LiveSegmenter | None = None
    mixer: Mixer | None = None
    part_target: float = 0.0  # 0: no parts
    parts_per_segment: tuple[int, int] = (0, 0)  # fewest, most
    parts: dict[tuple[int, int], tuple[PartEntry, bytes]] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def add(self, entry: SegmentEntry) -> None:
        if len(self.window) == self.window.maxlen and self.window[0].discontinuity:
            self.discontinuity_sequence += 1
        self.window.append(entry)
        oldest = entry.sequence - KEPT_PART_SEGMENTS
        for key in [k for k in self.parts if k[0] <= oldest]:
            del self.parts[key]
        self._notify()

    def add_part(self, entry: PartEntry, data: bytes) -> None:
        if entry.index == 0:
            # A number given again (its first segment could not be stored): new parts.
            for key in [k for k in self.parts if k[0] == entry.sequence]:
                del self.parts[key]
        self.parts[entry.sequence, entry.index] = (entry, data)
        self._notify()

    def finish(self, now: datetime) -> None:
        if self.ended_at is None:
            self.ended_at = now
            self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- where the live edge is --------------------------------------------------------------

    @property
    def last_segment(self) -> int | None:
        return self.window[-1].sequence if self.window else None

    def open_parts(self) -> list[PartEntry]:
        """Parts of the segment being made (after the last complete one), in order."""
        last = self.last_segment
        return sorted(
            (p for p, _ in self.parts.values() if last is None or p.sequence > last),
            key=lambda p: (p.sequence, p.index),
        )

    def edge(self) -> tuple[int, int] | None:
        """(media sequence, part index) of the newest part or segment; a complete segment
        counts as (its number, -1) when no part of the next one exists yet."""
        made = self.open_parts()
        if made:
            return made[-1].sequence, made[-1].index
        last = self.last_segment
        return None if last is None else (last, -1)

    def has(self, msn: int, part: int | None) -> bool:
        """Whether the playlist already holds segment `msn` (complete), or its part `part`.
        A part past the last of a complete segment means the next segment's first."""
        last = self.last_segment
        if part is not None and msn == last:
            made = sum(1 for sequence, _ in self.parts if sequence == msn)
            if made and part >= made:
                msn, part = msn + 1, 0
        if last is not None and msn <= last:
            return True
        return part is not None and (msn, part) in self.parts

    def next_part(self) -> PartEntry | None:
        """The part to come next (EXT-X-PRELOAD-HINT), while the program is being segmented."""
        if self.ended or self.segmenter is None or not self.part_target:
            return None
        made = self.open_parts()
        if made and made[-1].index + 1 < self.parts_per_segment[1]:
            return PartEntry(made[-1].sequence, made[-1].index + 1, 0.0)
        if made:  # that was the segment's last part: the next one starts the next segment
            return PartEntry(made[-1].sequence + 1, 0, 0.0)
        last = self.last_segment
        return PartEntry(self.numbers.next if last is None else last + 1, 0, 0.0)

    def low_latency(self) -> LowLatency | None:
        if not self.part_target:
            return None
        last = self.last_segment
        listed_from = -1 if last is None else last - LISTED_PART_SEGMENTS + 1
        parts = sorted(
            (p for p, _ in self.parts.values() if p.sequence >= listed_from),
            key=lambda p: (p.sequence, p.index),
        )
        return LowLatency(self.part_target, parts, self.next_part())

    async def until(self, msn: int, part: int | None, timeout: float) -> None:
        """Return once the playlist holds segment `msn` (or its part `part`), the stream ended,
        or `timeout` seconds passed, whichever comes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ended and not self.has(msn, part):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
