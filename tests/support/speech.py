"""Synthetic speech for caption tests: espeak-ng says a sentence, and a `Speaker` track plays
what it is given at real-time pace, silence in between, as a microphone would."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av import AudioFrame

from tests.support.audio import FRAME, RATE, PacedMicrophone

Samples = npt.NDArray[np.int16]


def say(text: str, voice: str = "en-us", rate: int = RATE, words_per_minute: int = 150) -> Samples:
    """`text` spoken by espeak-ng's `voice`, as mono s16 at `rate`."""
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "said.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        return read_mono(wav, rate)


def read_mono(path: Path, rate: int) -> Samples:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    parts: list[Samples] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts += [_samples(f) for f in resampler.resample(frame)]
    parts += [_samples(f) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.int16)


def _samples(frame: AudioFrame) -> Samples:
    return frame.to_ndarray().reshape(-1).astype(np.int16)


class Speaker(PacedMicrophone):
    """A microphone: plays each queued recording once, then silence."""

    def __init__(self) -> None:
        super().__init__()
        self._pcm: Samples = np.zeros(0, dtype=np.int16)
        self._at = 0
        self.finished_at: float | None = None  # time.monotonic() when the last recording ended

    def play(self, samples: Samples) -> float:
        """Queue `samples`; the seconds they last."""
        self._pcm = np.concatenate([self._pcm[self._at :], samples])
        self._at = 0
        self.finished_at = None
        return len(samples) / RATE

    @property
    def playing(self) -> bool:
        return self._at < len(self._pcm)

    def samples(self, index: int) -> Samples:
        chunk = self._pcm[self._at : self._at + FRAME]
        was_playing = self.playing
        self._at += len(chunk)
        if was_playing and not self.playing:
            self.finished_at = time.monotonic()
        pcm = np.zeros(FRAME, dtype=np.int16)
        pcm[: len(chunk)] = chunk
        return pcm
