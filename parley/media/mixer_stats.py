"""What a mixer counts, for /metrics, benchmarks and tests."""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

# Recent per-tick samples kept for percentiles; about a minute at 20 ms.
RECENT = 3000
# Upper bounds (seconds) of the buckets of the added-delay histogram on /metrics.
ADDED_LATENCY_BUCKETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1)


@dataclass
class MixerStats:
    """Counters for benchmarks and tests. Times are seconds of the loop's monotonic clock."""

    ticks: int = 0
    skipped_ticks: int = 0  # ticks not run because the loop was stalled (no burst to catch up)
    encodes: int = 0  # program encodes: one per tick that had a program listener, never more
    packets: int = 0  # program packets published
    frames_in: int = 0  # frames read from audible sources
    muted_frames: int = 0  # frames read from sources that are not audible, discarded
    dropped_samples: int = 0  # buffered audio dropped: overflow, drift, mute, detach
    listener_lag: int = 0  # program packets skipped by listeners that fell behind
    mix_minus_drops: int = 0  # mix-minus frames dropped because a sender did not read them
    phase_moves: int = 0  # times the tick phase was moved to follow the arrival of audio
    grace_waits: int = 0  # ticks that waited (at most GRACE_SECONDS) for a frame due just after
    grace_catches: int = 0  # of those, ticks whose awaited frames all came in time
    # Sources' ticks filled by their decoder's concealment: a frame lost, or later than the grace.
    concealed_ticks: int = 0
    # Ticks of silence sent again instead of encoded, program and mix-minus (encoders in use).
    silence_repeats: int = 0
    tick_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    # Ingress to egress inside the server: from audio reaching a source buffer to the end of
    # the tick that mixed it (its oldest sample; one entry per source per tick).
    added_latency: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    # The same since the mixer started, as a histogram: counts per ADDED_LATENCY_BUCKETS bound
    # (not cumulative; the last is above every bound), and the sum of all of them.
    added_latency_counts: list[int] = field(
        default_factory=lambda: [0] * (len(ADDED_LATENCY_BUCKETS) + 1)
    )
    added_latency_sum: float = 0.0

    def note_added(self, seconds: float) -> None:
        self.added_latency.append(seconds)
        self.added_latency_counts[bisect.bisect_left(ADDED_LATENCY_BUCKETS, seconds)] += 1
        self.added_latency_sum += seconds
