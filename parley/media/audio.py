"""PCM conventions of the mixer and the conversions to and from av frames and packets.

Everything inside the mixer is interleaved signed 16-bit stereo at 48 kHz, in numpy arrays of
shape (samples, 2): that is what aiortc's Opus decoder hands us, so the common path converts
nothing, and it is what Opus encodes natively.
"""

from __future__ import annotations

import fractions
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from av import AudioFrame
from av.audio.resampler import AudioResampler
from av.packet import Packet
from av.stream import Stream

SAMPLE_RATE = 48_000
CHANNELS = 2
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# Level reported for digital silence; RFC 6464 audio levels bottom out at -127 dBov.
SILENCE_DBOV = -127.0

Pcm = npt.NDArray[np.int16]
"""Interleaved s16 stereo, shape (samples, 2)."""

Mix = npt.NDArray[np.int32]
"""Wide accumulator for sums of Pcm, so adding voices cannot wrap around."""


# Asked for `samples` of a source's audio that did not arrive in time: the decoder's estimate
# of them, or None when it has none to give.
Concealer = Callable[[int], Pcm | None]


@dataclass(frozen=True)
class PcmFrame:
    """Decoded audio as the ingress puts it on a speaker's track (ingress.py): Pcm already, so
    the mixer takes it as it is, with no av.AudioFrame in between. `pts` is its RTP timestamp;
    `conceal`, the decoder that made it, asked to carry the voice over a frame that is lost."""

    pcm: Pcm
    pts: int
    conceal: Concealer | None = None


def samples_per_tick(frame_ms: int) -> int:
    return SAMPLE_RATE * frame_ms // 1000


def silence(samples: int) -> Pcm:
    return np.zeros((samples, CHANNELS), dtype=np.int16)


class PcmConverter:
    """Turns whatever frames one source yields into Pcm.

    One per source, because a resampler keeps state (filter history, leftover samples) between
    frames of the same stream. The resampler is only built when a frame is not already s16
    stereo 48 kHz, which for tracks coming out of aiortc's Opus decoder is never.
    """

    def __init__(self) -> None:
        self._resampler: AudioResampler | None = None

    def convert(self, frame: AudioFrame) -> Pcm:
        if frame.sample_rate == SAMPLE_RATE and frame.format.name == "s16":
            if frame.layout.name == "stereo":
                return _as_s16(frame).reshape(-1, CHANNELS)
            if frame.layout.name == "mono":
                mono = _as_s16(frame).reshape(-1, 1)
                return np.repeat(mono, CHANNELS, axis=1)
        if self._resampler is None:
            self._resampler = AudioResampler(format="s16", layout="stereo", rate=SAMPLE_RATE)
        parts = [_as_s16(f).reshape(-1, CHANNELS) for f in self._resampler.resample(frame)]
        if not parts:
            return silence(0)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _as_s16(frame: AudioFrame) -> Pcm:
    array = frame.to_ndarray()
    if array.dtype != np.int16:
        raise ValueError(f"expected s16 samples, got {array.dtype}")
    return array.astype(np.int16, copy=False)


def pcm_to_frame(pcm: Pcm, pts: int) -> AudioFrame:
    """An s16 stereo frame stamped in the 48 kHz time base that aiortc's encoders expect."""
    frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


def stamped_packet(data: bytes, pts: int) -> Packet[Stream]:
    """Opus bytes as a packet aiortc's sender packs without encoding again, stamped in the 48 kHz
    media clock (receivers only care that RTP timestamps follow it)."""
    packet = Packet(data)
    packet.pts = pts
    packet.time_base = TIME_BASE
    return packet


def level_dbov(pcm: Pcm) -> float:
    """RMS level relative to full scale (0 dBov is a full-scale square wave)."""
    if pcm.size == 0:
        return SILENCE_DBOV
    flat = pcm.reshape(-1).astype(np.float32)
    mean_square = float(np.dot(flat, flat)) / flat.size
    if mean_square <= 0.0:
        return SILENCE_DBOV
    return max(SILENCE_DBOV, 10.0 * math.log10(mean_square / (32767.0 * 32767.0)))
