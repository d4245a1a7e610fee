"""Where in each 20 ms period the mixer ticks, tuned to when stage audio actually arrives.

The clock's period is fixed, but its phase is free. Audio waits in a source buffer from the
moment it arrives until the next tick, so with an arbitrary phase the server adds 0-20 ms
(about 20 ms at p99, the whole budget). Moving the ticks to just after the frames usually arrive
cuts that to a few milliseconds. The tuner watches how long consumed audio waited and, at most
once per window, moves the phase: earlier when even the tightest frame waited longer than
needed, later when frames keep arriving just after the tick and miss it.

Moves are bounded and rare, so there is no burst: an earlier tick only shortens one interval.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field


@dataclass(eq=False)
class PhaseTuner:
    period: float
    _: KW_ONLY
    window_ticks: int = 50
    # How long after the latest usual arrival the tick should come: loop wake-up lateness plus
    # network jitter. Grows when frames miss ticks, shrinks back when they stop.
    min_margin: float = 0.003
    max_margin: float = 0.012
    margin: float = field(init=False)
    _tightest: float | None = field(default=None, init=False)
    _misses: int = field(default=0, init=False)
    _ticks: int = field(default=0, init=False)
    moves: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.margin = self.min_margin

    def note_wait(self, waited: float) -> None:
        """A source's tick of audio that had been waiting ``waited`` seconds, with no backlog."""
        if self._tightest is None or waited < self._tightest:
            self._tightest = waited

    def note_miss(self) -> None:
        """A source that is sending had nothing buffered at the tick: its frame came too late."""
        self._misses += 1

    def end_tick(self) -> float:
        """Seconds to move the clock's phase by (negative: earlier), usually 0."""
        self._ticks += 1
        if self._ticks < self.window_ticks:
            return 0.0
        tightest, misses = self._tightest, self._misses
        self._tightest, self._misses, self._ticks = None, 0, 0
        if misses >= 2:
            self.margin = min(self.max_margin, self.margin + 0.002)
            self.moves += 1
            return 0.002
        self.margin = max(self.min_margin, self.margin - 0.0005)
        if tightest is None:
            return 0.0
        early = tightest - self.margin
        if early < 0.001:
            return 0.0
        self.moves += 1
        # Never shorten an interval to nothing: that would be a burst of two ticks.
        return -min(early, self.period - 0.002)
