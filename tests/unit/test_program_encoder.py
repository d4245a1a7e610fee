"""Silence is encoded until the Opus encoder settles, then the same packet is sent again: the
audio that follows decodes as it would after a continuous encode, and every packet decodes."""

from __future__ import annotations

import numpy as np

from parley.media.opus import OpusDecoder
from parley.media.program import SETTLED_SILENCE, ProgramEncoder

TICK = 960


def tone_ticks(first: int, count: int, freq: float = 440.0) -> list[np.ndarray]:
    t = np.arange(first * TICK, (first + count) * TICK) / 48_000
    mono = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
    pcm = np.repeat(mono, 2).reshape(-1, 2)
    return [pcm[i * TICK : (i + 1) * TICK] for i in range(count)]


def run(encoder: ProgramEncoder, script: list[np.ndarray | None], *, skip: bool) -> list[bytes]:
    """Encode each tick: audio, or silence (None) through encode_silence, or (skip=False)
    through the encoder as any other audio."""
    zeros = np.zeros((TICK, 2), dtype=np.int16)
    out: list[bytes] = []
    for i, pcm in enumerate(script):
        if pcm is None and skip:
            packet = encoder.encode_silence(i * TICK)
        else:
            packet = encoder.encode(zeros if pcm is None else pcm, i * TICK)
        assert packet.pts == i * TICK
        out.append(bytes(packet))
    return out


def decode(stream: list[bytes]) -> list[np.ndarray]:
    decoder = OpusDecoder()
    return [decoder.decode(data) for data in stream]


def script() -> list[np.ndarray | None]:
    return [*tone_ticks(0, 30), *([None] * 40), *tone_ticks(70, 40)]


def test_silence_is_encoded_until_the_encoder_settles_then_sent_again() -> None:
    encoder = ProgramEncoder(application="voip")
    stream = run(encoder, script(), skip=True)
    silent = stream[30:70]
    # The look-ahead's tail of the tone first, then one small packet, over and over.
    assert silent[-1] != stream[29] and len(silent[-1]) < 10
    encoded = 40 - encoder.skipped
    assert SETTLED_SILENCE <= encoded < 10
    assert all(p == silent[-1] for p in silent[encoded - SETTLED_SILENCE :])
    # Audio ends the repeat at once, and new silence is encoded again until it settles.
    assert all(len(p) > 100 for p in stream[70:])
    before = encoder.skipped
    encoder.encode_silence(110 * TICK)
    assert encoder.skipped == before


def test_audio_after_repeated_silence_decodes_as_after_a_continuous_encode() -> None:
    for application in ("voip", "audio"):
        skipped = run(ProgramEncoder(application=application), script(), skip=True)
        continuous = run(ProgramEncoder(application=application), script(), skip=False)
        assert skipped[:40] == continuous[:40]  # identical until the first repeat
        # Not the same stream: the encoder's state after 3 silent frames is not that after 40.
        assert skipped[70:] != continuous[70:]
        heard, reference = decode(skipped), decode(continuous)
        for i in range(70, 110):
            signal = float(np.sum(reference[i].astype(np.float64) ** 2))
            error = float(np.sum((heard[i].astype(np.float64) - reference[i]) ** 2))
            assert signal > 0
            # 35 dB or more below the signal: inaudible (measured 40 dB and more).
            assert error < signal * 10 ** (-3.5), f"tick {i}: {np.log10(signal / error):.2f} B"
        for i in range(40, 70):  # the repeated silence decodes to silence
            assert np.abs(heard[i]).max() <= 1
