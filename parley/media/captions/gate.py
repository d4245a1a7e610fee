"""Voice activity by energy, with a hangover: what decides that a speaker started or finished a
phrase, so that silence is never sent to a recognizer.

The level is the mixer's own per-tick measure (dBov), so the gate costs one comparison a tick.
A phrase opens on the first loud tick (the recognizer also gets a little audio from before it,
the pre-roll, or it would miss soft first consonants), stays open through the pauses between
words, and closes after `hangover_s` of quiet, or when it has run `max_phrase_s`, so that a
long monologue still gets final captions as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Step(Enum):
    QUIET = "quiet"  # nothing to send
    OPENED = "opened"  # a phrase began on this tick: send the pre-roll and this tick
    SPEAKING = "speaking"  # inside a phrase: send this tick
    CLOSED = "closed"  # the phrase ended (this tick is not part of it): finish it


@dataclass
class VoiceGate:
    threshold_dbov: float = -45.0
    hangover_s: float = 0.5
    max_phrase_s: float = 12.0
    opened_at: float | None = None
    last_loud: float = 0.0

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def step(self, level: float, now: float) -> Step:
        loud = level > self.threshold_dbov
        if self.opened_at is None:
            if not loud:
                return Step.QUIET
            self.opened_at = self.last_loud = now
            return Step.OPENED
        if loud:
            self.last_loud = now
        if now - self.last_loud > self.hangover_s or now - self.opened_at > self.max_phrase_s:
            self.opened_at = None
            return Step.CLOSED
        return Step.SPEAKING

    def close(self) -> bool:
        """End the phrase now (the speaker was muted or left); whether one was open."""
        was_open = self.opened_at is not None
        self.opened_at = None
        return was_open
