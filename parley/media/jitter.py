"""A tiny per-source jitter buffer, measured in samples rather than frames.

Counting samples lets sources send any frame size (10, 20 or 60 ms Opus all decode fine) while
the mixer always takes exactly one tick's worth. The buffer is kept short on purpose: the
figure we hold ourselves to is at most 20 ms added by the server, so anything beyond a few
frames is latency nobody asked for, and it is dropped (oldest first).

A tick that finds nothing buffered, because a packet was lost or came too late, is filled by
the source's decoder (libopus's concealment) rather than left a hole, a tick or two in a row.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from parley.media.audio import CHANNELS, Concealer, Pcm

# Ticks in a row a source's missing audio is concealed before it is let fall silent: enough for
# the losses a usual network has (one or two packets in a row), and little of the decoder's
# guessing heard when the speaker has stopped sending or their frames now come a tick later.
CONCEAL_TICKS = 2


class Pulled(NamedTuple):
    pcm: Pcm
    oldest: float  # when the oldest sample handed out arrived: the latency it suffered
    newest: float  # when the last piece needed to fill the tick arrived: how tight it was


class SourceBuffer:
    """Buffered audio of one source, between its reader task and the mixer clock.

    ``capacity`` bounds what is held (a frame larger than that is still kept whole, or it
    could never be played). ``drift_window`` ticks: if the buffer never ran dry over that many
    ticks, the sender's clock is ahead of ours or a burst left a backlog, and the surplus that
    was always there is pure delay, so it is dropped.
    """

    def __init__(self, capacity: int, drift_window: int = 10) -> None:
        self.capacity = capacity
        self.drift_window = drift_window
        self._chunks: deque[tuple[Pcm, float]] = deque()
        self._head = 0  # samples of _chunks[0] already taken
        self._buffered = 0
        self._min_residual: int | None = None
        self._window_ticks = 0
        self.dropped_samples = 0
        self.last_push: float | None = None
        self._last_length = 0  # samples in the last push: the source's frame size
        self.concealer: Concealer | None = None  # the decoder of the frames pushed last
        # RTP time of the frame that should come next, and of the one a tick found missing.
        self._next_pts: int | None = None
        self._missing_pts: int | None = None
        self._conceal_left = 0

    @property
    def buffered(self) -> int:
        return self._buffered

    def push(self, pcm: Pcm, arrived: float, pts: int | None = None) -> bool:
        """Hold a frame; `pts`, its RTP time if it has one. True if it is the frame a tick
        found missing (`missed`): it came late, rather than being lost."""
        if len(pcm) == 0:
            return False
        late = pts is not None and pts == self._missing_pts
        self._missing_pts = None
        if pts is not None:
            self._next_pts = (pts + len(pcm)) & 0xFFFFFFFF
        self.last_push = arrived
        self._last_length = len(pcm)
        self._chunks.append((pcm, arrived))
        self._buffered += len(pcm)
        limit = max(self.capacity, len(pcm))
        if self._buffered > limit:
            self._discard(self._buffered - limit)
        return late

    def next_due(self, sample_rate: int, after: float) -> float | None:
        """When the source's next frame should arrive if it keeps the pace of the last one: the
        first of its frame times after `after`, counting on past a frame or two that never
        came (lost, their ticks concealed); None before its first frame."""
        if self.last_push is None:
            return None
        frame = self._last_length / sample_rate
        due = self.last_push + frame
        for _ in range(CONCEAL_TICKS):
            if due > after:
                break
            due += frame
        return due

    def trim(self, keep: int) -> None:
        """Drop all but the newest ``keep`` samples (after a stall: the rest is only delay)."""
        if self._buffered > keep:
            self._discard(self._buffered - keep)

    def clear(self) -> None:
        self.dropped_samples += self._buffered
        self._chunks.clear()
        self._head = 0
        self._buffered = 0
        self._min_residual = None
        self._window_ticks = 0
        self._conceal_left = 0  # a voice that was cut off (muted, removed) is never carried on

    def pull(self, samples: int) -> Pulled | None:
        """One tick of audio (zero-padded if short), or None when nothing is buffered, so the
        caller can leave the source out instead of mixing a block of zeros."""
        if self._buffered == 0:
            self._note_residual(0)
            return None
        first, oldest = self._chunks[0]
        newest = oldest
        if len(first) - self._head >= samples:
            # The common case: one decoded 20 ms frame per tick, handed over without copying.
            out = first[self._head : self._head + samples]
            self._advance(samples)
        else:
            out = np.zeros((samples, CHANNELS), dtype=np.int16)
            filled = 0
            while filled < samples and self._chunks:
                chunk, newest = self._chunks[0]
                take = min(samples - filled, len(chunk) - self._head)
                out[filled : filled + take] = chunk[self._head : self._head + take]
                filled += take
                self._advance(take)
        self._note_residual(self._buffered)
        self._conceal_left = CONCEAL_TICKS
        return Pulled(out, oldest, newest)

    def missed(self) -> bool:
        """A tick found nothing of a source that is sending. True if that alone says its frames
        come too late (they carry no RTP time); otherwise the missing frame's time is kept, and
        `push` tells whether it then came late or was lost: a lost one says nothing of when
        the others arrive, and must not move the ticks later."""
        if self._next_pts is None:
            return True
        if self._missing_pts is None:
            self._missing_pts = self._next_pts
        return False

    def conceal(self, samples: int) -> Pcm | None:
        """For a tick `pull` found nothing for: the decoder's estimate of the missing audio, if
        the source was being heard until now (since its last pull, not cleared) and for at most
        CONCEAL_TICKS ticks in a row; None otherwise, and the source is left out."""
        if self.concealer is None or self._conceal_left == 0:
            return None
        self._conceal_left -= 1
        pcm = self.concealer(samples)
        if pcm is None or pcm.shape != (samples, CHANNELS):
            return None
        return pcm

    def _advance(self, samples: int) -> None:
        self._head += samples
        self._buffered -= samples
        if self._head >= len(self._chunks[0][0]):
            self._chunks.popleft()
            self._head = 0

    def _discard(self, samples: int) -> None:
        self.dropped_samples += samples
        while samples > 0 and self._chunks:
            take = min(samples, len(self._chunks[0][0]) - self._head)
            self._advance(take)
            samples -= take

    def _note_residual(self, residual: int) -> None:
        if self._min_residual is None or residual < self._min_residual:
            self._min_residual = residual
        self._window_ticks += 1
        if self._window_ticks >= self.drift_window:
            if self._min_residual:
                self._discard(self._min_residual)
            self._min_residual = None
            self._window_ticks = 0
