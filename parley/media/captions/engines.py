"""Speech recognizers behind one interface, as the worker processes run them.

An `Engine` is loaded once per worker process; `open` hands out a `Recognizer` for one phrase
of one speaker (16 kHz mono s16 in, text out) and `Recognizer.finish` gives it back. The bundled
engine is pocketsphinx with its en-us model; vosk and faster-whisper need a model directory the
operator provides (nothing is ever downloaded). `check` says at start-up, in the node's own
process and without loading a model, whether the configured engine can run at all.

This module is imported by the worker processes: it must not import aiortc, av or the node.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from parley.core.captions import CaptionEngine
from parley.media.captions.phones import pronounce

SAMPLE_RATE = 16_000


class CaptionsUnavailable(RuntimeError):
    """The configured engine cannot run here; the message says what to change."""


class EngineBusy(RuntimeError):
    """No recognizer free for another phrase in this worker (the phrase goes uncaptioned)."""


@dataclass(frozen=True)
class SphinxTuning:
    """Decoder settings of pocketsphinx; None keeps the model's default. What each preset gave
    is in docs/benchmarks.md ("Captions")."""

    name: str
    lw: float | None = None  # language-model weight against the acoustics
    beam: float | None = None  # pruning of HMM states, wider is slower and (maybe) better
    wbeam: float | None = None  # pruning of word exits
    pbeam: float | None = None
    maxhmmpf: int | None = None  # at most this many HMMs active a frame
    fwdflat: bool | None = None  # second, flat-lexicon pass at the end of a phrase
    bestpath: bool | None = None  # lattice best-path pass at the end of a phrase
    topn: int | None = None  # Gaussians scored per frame
    vocabulary: bool = True  # add the space's words the dictionary lacks

    def options(self) -> dict[str, Any]:
        fields = ("lw", "beam", "wbeam", "pbeam", "maxhmmpf", "fwdflat", "bestpath", "topn")
        return {k: getattr(self, k) for k in fields if getattr(self, k) is not None}


TUNINGS: dict[str, SphinxTuning] = {
    t.name: t
    for t in (
        SphinxTuning("default", vocabulary=False),
        SphinxTuning("vocabulary"),
        SphinxTuning("lw10", lw=10.0),
        SphinxTuning(
            "fast",
            fwdflat=False,
            beam=1e-40,
            wbeam=1e-24,
            pbeam=1e-40,
            maxhmmpf=5000,
            topn=2,
        ),
        SphinxTuning("fast-lw10", lw=10.0, fwdflat=False, maxhmmpf=5000, topn=2),
    )
}
DEFAULT_TUNING = "default"


@dataclass(frozen=True)
class EngineSpec:
    engine: CaptionEngine
    model_dir: Path | None = None
    tuning: SphinxTuning = field(default_factory=lambda: TUNINGS[DEFAULT_TUNING])
    # Recognizers one worker holds at most: phrases recognized at once (a pocketsphinx decoder
    # holds its own copy of the model, about 90 MB).
    per_worker: int = 4


class Recognizer(Protocol):
    def feed(self, pcm: bytes) -> str:
        """Take more of the phrase; the text recognized so far."""

    def finish(self) -> str:
        """The phrase is over: its final text. The recognizer is free again afterwards."""


class Engine(Protocol):
    def open(self, vocabulary: tuple[str, ...], voice: str) -> Recognizer:
        """A recognizer for one phrase of `voice` (a speaker in a space: engines that adapt to
        a voice keep what they learnt of it for its next phrase)."""


def _import(module: str, package: str, engine: CaptionEngine) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise CaptionsUnavailable(
            f"PARLEY_CAPTIONS={engine.value} needs the Python package {package!r}, which is not "
            f"installed ({error}); install it, or set PARLEY_CAPTIONS=pocketsphinx or off"
        ) from error


def _model_dir(spec: EngineSpec) -> Path:
    where = spec.model_dir
    if where is None:
        raise CaptionsUnavailable(
            f"PARLEY_CAPTIONS={spec.engine.value} needs PARLEY_CAPTIONS_MODEL: the directory "
            "of a model on this machine (nothing is downloaded)"
        )
    if not where.is_dir():
        raise CaptionsUnavailable(
            f"PARLEY_CAPTIONS_MODEL={where} is not a directory: point it at an unpacked "
            f"{spec.engine.value} model"
        )
    return where


def check(spec: EngineSpec) -> None:
    """Raise `CaptionsUnavailable` unless the engine's package and model are here."""
    match spec.engine:
        case CaptionEngine.POCKETSPHINX:
            _import("pocketsphinx", "pocketsphinx", spec.engine)
        case CaptionEngine.VOSK:
            _import("vosk", "vosk", spec.engine)
            if not (_model_dir(spec) / "am").is_dir() and not (_model_dir(spec) / "conf").is_dir():
                raise CaptionsUnavailable(
                    f"PARLEY_CAPTIONS_MODEL={spec.model_dir} does not hold a vosk model "
                    "(no am/ nor conf/ inside)"
                )
        case CaptionEngine.WHISPER:
            _import("faster_whisper", "faster-whisper", spec.engine)
            if not (_model_dir(spec) / "model.bin").is_file():
                raise CaptionsUnavailable(
                    f"PARLEY_CAPTIONS_MODEL={spec.model_dir} does not hold a CTranslate2 "
                    "Whisper model (no model.bin inside)"
                )
        case CaptionEngine.OFF:
            raise CaptionsUnavailable("captions are off")


def load(spec: EngineSpec) -> Engine:
    check(spec)
    match spec.engine:
        case CaptionEngine.POCKETSPHINX:
            return SphinxEngine(spec)
        case CaptionEngine.VOSK:
            return VoskEngine(spec)
        case _:
            return WhisperEngine(spec)


# --- pocketsphinx ---------------------------------------------------------------------------


# Cepstral means kept per voice, at most this many (a few hundred bytes each).
KNOWN_VOICES = 1000


class _SphinxPhrase:
    def __init__(self, decoder: Any, release: Any, remember: Any) -> None:
        self._decoder = decoder
        self._release = release
        self._remember = remember
        decoder.start_utt()

    def feed(self, pcm: bytes) -> str:
        self._decoder.process_raw(pcm)
        hyp = self._decoder.hyp()
        return str(hyp.hypstr) if hyp is not None else ""

    def finish(self) -> str:
        try:
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            self._remember(self._decoder.get_cmn())
            return str(hyp.hypstr) if hyp is not None else ""
        finally:
            self._release(self._decoder)


class SphinxEngine:
    """Decoders are made on demand, up to `per_worker`, and reused phrase after phrase; each
    remembers the words already added to it, so a space's vocabulary is added once.

    Pocketsphinx normalizes the audio by a running cepstral mean that it learns as it hears a
    voice through a channel; a fresh one misses most of a first phrase. So the mean each voice
    ended its last phrase with is where its next phrase starts, whichever decoder takes it; a
    voice heard for the first time starts from the last mean learnt here (same channel, at least).
    """

    def __init__(self, spec: EngineSpec) -> None:
        self._ps = importlib.import_module("pocketsphinx")
        self._spec = spec
        self._idle: list[Any] = []
        self._count = 0
        self._known: dict[int, set[str]] = {}
        self._means: dict[str, str] = {}
        self._last_mean: str | None = None
        self._idle.append(self._new())  # the first one now: a phrase should not wait for it

    def _new(self) -> Any:
        self._count += 1
        options = {"loglevel": "FATAL", "samprate": SAMPLE_RATE, **self._spec.tuning.options()}
        decoder = self._ps.Decoder(**options)
        self._known[id(decoder)] = set()
        return decoder

    def open(self, vocabulary: tuple[str, ...], voice: str) -> Recognizer:
        if self._idle:
            decoder = self._idle.pop()
        elif self._count < self._spec.per_worker:
            decoder = self._new()
        else:
            raise EngineBusy("every decoder of this worker is in a phrase")
        if self._spec.tuning.vocabulary:
            self._add_words(decoder, vocabulary)
        mean = self._means.get(voice, self._last_mean)
        if mean is not None:
            decoder.set_cmn(mean)
        return _SphinxPhrase(decoder, self._idle.append, lambda m: self._learnt(voice, m))

    def _learnt(self, voice: str, mean: str) -> None:
        self._means.pop(voice, None)
        self._means[voice] = self._last_mean = mean
        if len(self._means) > KNOWN_VOICES:
            del self._means[next(iter(self._means))]  # the voice heard longest ago

    def _add_words(self, decoder: Any, vocabulary: tuple[str, ...]) -> None:
        known = self._known[id(decoder)]
        new = [w for w in vocabulary if w not in known]
        known.update(new)
        missing = [w for w in new if decoder.lookup_word(w) is None]
        for at, word in enumerate(missing):
            phones = pronounce(word)
            if phones:
                # Adding to the dictionary also adds the word to the language model; the search
                # is rebuilt once, with the last word.
                # A pronunciation the model refuses leaves the word unknown.
                with contextlib.suppress(RuntimeError):
                    decoder.add_word(word, phones, at == len(missing) - 1)


# --- vosk -----------------------------------------------------------------------------------


class _VoskPhrase:
    def __init__(self, recognizer: Any) -> None:
        self._recognizer = recognizer
        self._said: list[str] = []

    def feed(self, pcm: bytes) -> str:
        if self._recognizer.AcceptWaveform(pcm):
            self._said.append(json.loads(self._recognizer.Result()).get("text", ""))
            return " ".join(filter(None, self._said))
        partial = json.loads(self._recognizer.PartialResult()).get("partial", "")
        return " ".join(filter(None, [*self._said, partial]))

    def finish(self) -> str:
        self._said.append(json.loads(self._recognizer.FinalResult()).get("text", ""))
        return " ".join(filter(None, self._said))


class VoskEngine:
    def __init__(self, spec: EngineSpec) -> None:
        self._vosk = importlib.import_module("vosk")
        self._vosk.SetLogLevel(-1)
        self._model = self._vosk.Model(str(spec.model_dir))

    def open(self, vocabulary: tuple[str, ...], voice: str) -> Recognizer:
        return _VoskPhrase(self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE))


# --- faster-whisper -------------------------------------------------------------------------


class _WhisperPhrase:
    """Whisper reads whole phrases: no partials, the final at the end of the phrase, with the
    space's vocabulary as the prompt (names spelled as the space spells them)."""

    def __init__(self, model: Any, prompt: str) -> None:
        self._model = model
        self._prompt = prompt
        self._pcm: list[bytes] = []

    def feed(self, pcm: bytes) -> str:
        self._pcm.append(pcm)
        return ""

    def finish(self) -> str:
        import numpy as np

        audio = np.frombuffer(b"".join(self._pcm), dtype=np.int16).astype(np.float32) / 32768
        segments, _ = self._model.transcribe(
            audio, language="en", beam_size=1, initial_prompt=self._prompt or None
        )
        return " ".join(s.text.strip() for s in segments).strip()


class WhisperEngine:
    def __init__(self, spec: EngineSpec) -> None:
        whisper = importlib.import_module("faster_whisper")
        self._model = whisper.WhisperModel(
            str(spec.model_dir), device="cpu", compute_type="int8", cpu_threads=1
        )

    def open(self, vocabulary: tuple[str, ...], voice: str) -> Recognizer:
        return _WhisperPhrase(self._model, ", ".join(vocabulary))
