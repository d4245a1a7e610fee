"""The test support's ear: a tone is told apart from the click a concealed packet loss makes,
so tests that time a voice going silent measure the server, not a glitch on a busy machine."""

from __future__ import annotations

import numpy as np

from tests.support.audio import FRAME, RATE, carries_tone


def _tone(frequency: float, dbfs: float) -> np.ndarray:
    t = np.arange(FRAME) / RATE
    return 32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * frequency * t)


def test_a_tone_is_carried_even_faint_and_mixed_with_others() -> None:
    assert carries_tone(_tone(1200, -15), 1200)
    assert carries_tone(_tone(1200, -45) + _tone(440, -15) + _tone(2000, -15), 1200)


def test_silence_and_other_tones_do_not_carry_it() -> None:
    assert not carries_tone(np.zeros(FRAME), 1200)
    assert not carries_tone(_tone(440, -15) + _tone(2000, -15), 1200)


def test_a_click_is_not_the_tone_coming_back() -> None:
    click = np.zeros(FRAME)
    click[FRAME // 2] = 30000.0  # broadband: louder at 1,200 Hz than GONE_DBFS
    assert not carries_tone(click, 1200)
