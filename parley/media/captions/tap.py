"""One space's captions: the mixer hands over each tick's audible voices; each speaker's phrases
are gated, resampled to 16 kHz mono and sent to the recognizer pool, and what comes back becomes
`Caption`s.

It runs inside the mixer's tick, so it does little: a comparison per speaker per tick while
quiet, and while someone speaks a resample (in C) and, every `chunk_ticks`, one queue append.
Only sources the mixer mixes reach it: a muted or removed speaker's audio never does.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from av.audio.resampler import AudioResampler

from parley.core.captions import Caption
from parley.media.audio import Pcm, pcm_to_frame
from parley.media.captions.engines import SAMPLE_RATE
from parley.media.captions.gate import Step, VoiceGate
from parley.media.captions.workers import Heard, RecognizerPool

log = logging.getLogger(__name__)

TICK_SECONDS = 0.02
PREROLL_TICKS = 15  # 300 ms before the first loud tick
CHUNK_TICKS = 10  # 200 ms of audio per message to a worker
# Partials of one speaker at most this often: each is an event to every client of the space.
PARTIAL_INTERVAL_S = 0.5


@dataclass
class _Phrase:
    key: int | None  # None: dropped (the workers were behind); the gate still follows it
    start: float  # loop time of its first loud tick
    resampler: AudioResampler = field(
        default_factory=lambda: AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    )
    pts: int = 0
    pending: list[bytes] = field(default_factory=list)
    end: float | None = None  # loop time of its last loud tick, once it is over
    last_partial: str = ""
    last_partial_at: float = float("-inf")


@dataclass
class _Speaker:
    gate: VoiceGate
    preroll: deque[Pcm] = field(default_factory=lambda: deque(maxlen=PREROLL_TICKS))
    phrase: _Phrase | None = None


class CaptionTap:
    def __init__(
        self,
        pool: RecognizerPool,
        on_caption: Callable[[Caption], None],
        *,
        origin: float,
        name: str = "",
        vocabulary: tuple[str, ...] = (),
        gate: Callable[[], VoiceGate] = VoiceGate,
        on_new_speaker: Callable[[], None] | None = None,
    ) -> None:
        self.pool = pool
        self.on_caption = on_caption
        self.origin = origin  # loop time of the space's start
        self.name = name  # the space's: with a speaker's id, names a voice to the recognizers
        self.vocabulary = vocabulary
        self._gate = gate
        self._on_new_speaker = on_new_speaker
        self._speakers: dict[str, _Speaker] = {}

    def __call__(self, voices: Mapping[str, Pcm], levels: Mapping[str, float], now: float) -> None:
        for source in [s for s in self._speakers if s not in levels]:
            self._end(source, self._speakers.pop(source), now)  # muted, moved off, or gone
        for source, level in levels.items():
            speaker = self._speakers.get(source)
            if speaker is None:
                speaker = self._speakers[source] = _Speaker(self._gate())
                if self._on_new_speaker is not None:
                    self._on_new_speaker()  # their name joins the vocabulary
            pcm = voices.get(source)
            match speaker.gate.step(level, now):
                case Step.QUIET:
                    if pcm is not None:
                        speaker.preroll.append(pcm)
                case Step.OPENED:
                    self._open(source, speaker, now)
                    if pcm is not None:
                        self._add(speaker.phrase, pcm)
                case Step.SPEAKING:
                    if pcm is not None:
                        self._add(speaker.phrase, pcm)
                case Step.CLOSED:
                    self._end(source, speaker, speaker.gate.last_loud)
                    if pcm is not None:
                        speaker.preroll.append(pcm)

    def close(self) -> None:
        """The mixer stops: finish every phrase under way."""
        for source, speaker in self._speakers.items():
            self._end(source, speaker, speaker.gate.last_loud)
        self._speakers.clear()

    def _open(self, source: str, speaker: _Speaker, now: float) -> None:
        phrase = _Phrase(key=None, start=now)
        phrase.key = self.pool.begin(
            self.vocabulary,
            f"{self.name}/{source}",
            lambda heard: self._heard(source, phrase, heard),
        )
        speaker.phrase = phrase
        for pcm in speaker.preroll:
            self._add(phrase, pcm)
        speaker.preroll.clear()

    def _add(self, phrase: _Phrase | None, pcm: Pcm) -> None:
        if phrase is None or phrase.key is None:
            return
        frame = pcm_to_frame(pcm, phrase.pts)
        phrase.pts += len(pcm)
        for out in phrase.resampler.resample(frame):
            phrase.pending.append(bytes(out.planes[0])[: out.samples * 2])
        if len(phrase.pending) >= CHUNK_TICKS:
            self._flush(phrase)

    def _flush(self, phrase: _Phrase) -> None:
        if phrase.key is not None and phrase.pending:
            self.pool.send(phrase.key, b"".join(phrase.pending))
        phrase.pending.clear()

    def _end(self, source: str, speaker: _Speaker, end: float) -> None:
        speaker.gate.close()
        phrase, speaker.phrase = speaker.phrase, None
        if phrase is None or phrase.key is None:
            return
        for out in phrase.resampler.resample(None):
            phrase.pending.append(bytes(out.planes[0])[: out.samples * 2])
        self._flush(phrase)
        phrase.end = end
        self.pool.finish(phrase.key)

    def _heard(self, source: str, phrase: _Phrase, heard: Heard) -> None:
        text = " ".join(heard.text.split())
        start = phrase.start - self.origin
        if heard.final:
            if text:
                end = max(start, (phrase.end or phrase.start) - self.origin)
                self.on_caption(Caption(source, text, True, round(start, 3), round(end, 3)))
            return
        now = asyncio.get_running_loop().time()
        if (
            phrase.end is not None
            or not text
            or text == phrase.last_partial
            or now - phrase.last_partial_at < PARTIAL_INTERVAL_S
        ):
            return
        phrase.last_partial, phrase.last_partial_at = text, now
        self.on_caption(Caption(source, text, False, round(start, 3), round(now - self.origin, 3)))
