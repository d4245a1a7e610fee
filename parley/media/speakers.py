"""Who is speaking, from the levels the mixer measures every tick.

Levels come from the mixer rather than from clients, so a muted speaker (whose audio the mixer
discards) can never show up as speaking. Reports are rate-limited because each one becomes an
event sent to every client of the space (DESIGN.md: active-speaker updates at most 5 per second).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field

log = logging.getLogger(__name__)


@dataclass(eq=False)
class ActiveSpeakers:
    on_change: Callable[[list[str]], None] | None
    _: KW_ONLY
    threshold_dbov: float = -50.0
    # A speaker stays "speaking" through the short gaps between words, or the indicator would
    # flicker and each flicker would cost an event.
    hangover_s: float = 0.3
    min_interval_s: float = 0.2
    _last_loud: dict[str, float] = field(default_factory=dict, init=False)
    _reported: frozenset[str] = field(default=frozenset(), init=False)
    _reported_at: float | None = field(default=None, init=False)
    reports: int = field(default=0, init=False)

    @property
    def current(self) -> frozenset[str]:
        """The set last reported."""
        return self._reported

    def update(self, levels: Mapping[str, float], now: float) -> None:
        """Feed one tick of levels (only of sources that are audible) at monotonic time ``now``."""
        for source, level in levels.items():
            if level > self.threshold_dbov:
                self._last_loud[source] = now
        speaking: dict[str, float] = {}
        for source, loud_at in list(self._last_loud.items()):
            if source not in levels or now - loud_at > self.hangover_s:
                # Muted, removed or quiet for long enough: forget at once, so the dict stays as
                # small as the stage.
                del self._last_loud[source]
            else:
                speaking[source] = levels[source]
        if frozenset(speaking) == self._reported:
            return
        if self._reported_at is not None and now - self._reported_at < self.min_interval_s:
            return  # re-evaluated next tick, so the latest set goes out when the interval ends
        self._reported = frozenset(speaking)
        self._reported_at = now
        self.reports += 1
        if self.on_change is not None:
            loudest_first = sorted(speaking, key=lambda s: (-speaking[s], s))
            try:
                self.on_change(loudest_first)
            except Exception:
                # A failing subscriber must not stop the audio of the whole space.
                log.exception("active speakers callback failed")
