"""Opus encoded and decoded by libopus itself, called through cffi, without av frames.

Through PyAV, each tick's program went PCM -> av.AudioFrame -> an AudioResampler (libavcodec's
libopus wrapper has a fixed frame size, so PyAV pipes every frame through a resampler and its
FIFO even when the format already matches) -> avcodec -> libopus, and each speaker's packet came
back as an av.AudioFrame whose samples were copied out again (and stacked) for the mix: in a
profile of the server at 200 listeners that was a quarter of the mixer's tick and two thirds of
reading a speaker's track. Here the mixer's PCM goes to `opus_encode` as it is, and a packet is
decoded straight into the array the mix reads.

The library is the libopus already in this process: the copy PyAV's libavcodec loaded (a PyAV
wheel ships its own), so the encoder is the one that encoded the program before, and no second
libopus is needed. Where none is mapped (not Linux, or PyAV linked without libopus), the
system's is used. cffi (a dependency of aiortc's and pylibsrtp's) calls it in ABI mode: nothing
is compiled. `opus_problems()` checks, at node start-up, that it loads and that a tone survives
a round trip through it.
"""

from __future__ import annotations

import ctypes.util
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from cffi import FFI

from parley.media.audio import CHANNELS, SAMPLE_RATE, Pcm

Application = Literal["voip", "audio", "lowdelay"]

_CDEF = """
typedef struct OpusEncoder OpusEncoder;
typedef struct OpusDecoder OpusDecoder;
OpusEncoder *opus_encoder_create(int32_t Fs, int channels, int application, int *error);
int opus_encoder_ctl(OpusEncoder *st, int request, ...);
int32_t opus_encode(OpusEncoder *st, const int16_t *pcm, int frame_size,
                    unsigned char *data, int32_t max_data_bytes);
void opus_encoder_destroy(OpusEncoder *st);
OpusDecoder *opus_decoder_create(int32_t Fs, int channels, int *error);
int opus_decoder_get_nb_samples(const OpusDecoder *dec, const unsigned char *packet,
                                int32_t len);
int opus_decode(OpusDecoder *st, const unsigned char *data, int32_t len, int16_t *pcm,
                int frame_size, int decode_fec);
void opus_decoder_destroy(OpusDecoder *st);
const char *opus_strerror(int error);
const char *opus_get_version_string(void);
"""

# opus_defines.h
_APPLICATIONS: dict[Application, int] = {"voip": 2048, "audio": 2049, "lowdelay": 2051}
_SET_BITRATE = 4002
_SET_VBR = 4006
_SET_COMPLEXITY = 4010
_SET_INBAND_FEC = 4012
_SET_PACKET_LOSS_PERC = 4014
_SET_DTX = 4016
_SET_VBR_CONSTRAINT = 4020
_GET_BITRATE = 4003
_GET_COMPLEXITY = 4011
_OK = 0
# What libopus's documentation recommends for the output buffer: any one packet fits.
_MAX_PACKET = 4000
# The longest frame a packet can hold: 120 ms.
_MAX_FRAME_SAMPLES = SAMPLE_RATE * 120 // 1000


class OpusError(RuntimeError):
    """libopus refused: a packet that does not decode, or a setting it does not take."""


class OpusUnavailable(RuntimeError):
    """No libopus could be loaded."""


@dataclass(frozen=True)
class Libopus:
    ffi: FFI
    lib: Any  # the cffi library object: its attributes are the functions declared in _CDEF
    path: str
    version: str

    def error(self, code: int) -> str:
        return str(self.ffi.string(self.lib.opus_strerror(code)).decode())


@functools.cache
def libopus() -> Libopus:
    """The libopus of this process (see the module's docstring), loaded once."""
    ffi = FFI()
    ffi.cdef(_CDEF)
    tried = []
    for path in _candidates():
        try:
            lib = ffi.dlopen(path)
            version = ffi.string(lib.opus_get_version_string()).decode()
        except (OSError, AttributeError) as exc:
            tried.append(f"{path}: {exc}")
            continue
        return Libopus(ffi, lib, path, version)
    raise OpusUnavailable("no libopus could be loaded (" + "; ".join(tried or ["none found"]) + ")")


def _candidates() -> list[str]:
    import av  # noqa: F401  (its libavcodec maps the libopus it links)

    found = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            fields = line.split(maxsplit=5)
            path = fields[5] if len(fields) == 6 else ""
            if Path(path).name.startswith("libopus") and path not in found:
                found.append(path)
    system = ctypes.util.find_library("opus")
    if system is not None:
        found.append(system)
    return found


class OpusEncoder:
    """One Opus stream, s16 stereo at 48 kHz, one packet per frame of `frame_samples`.

    Set up as libavcodec's libopus encoder set it up for PyAV (libopusenc.c): the given bit rate
    and application, complexity 10, unconstrained VBR, no FEC, no DTX, no expected loss.
    """

    def __init__(self, frame_samples: int, bit_rate: int, application: Application) -> None:
        opus = libopus()
        error = opus.ffi.new("int *")
        state = opus.lib.opus_encoder_create(
            SAMPLE_RATE, CHANNELS, _APPLICATIONS[application], error
        )
        if error[0] != _OK or state == opus.ffi.NULL:
            raise OpusError(f"opus_encoder_create: {opus.error(error[0])}")
        self._state = opus.ffi.gc(state, opus.lib.opus_encoder_destroy)
        self._opus = opus
        self.frame_samples = frame_samples
        for request, value in (
            (_SET_BITRATE, bit_rate),
            (_SET_COMPLEXITY, 10),
            (_SET_VBR, 1),
            (_SET_VBR_CONSTRAINT, 0),
            (_SET_PACKET_LOSS_PERC, 0),
            (_SET_INBAND_FEC, 0),
            (_SET_DTX, 0),
        ):
            self._ctl(request, opus.ffi.cast("int32_t", value))
        self._out = opus.ffi.new("unsigned char[]", _MAX_PACKET)
        self._out_buffer = opus.ffi.buffer(self._out)

    def encode(self, pcm: Pcm) -> bytes:
        """One frame: `pcm` is exactly `frame_samples` of interleaved s16 stereo."""
        if pcm.shape != (self.frame_samples, CHANNELS) or pcm.dtype != np.int16:
            raise ValueError(f"expected ({self.frame_samples}, 2) s16, not {pcm.shape} {pcm.dtype}")
        ffi = self._opus.ffi
        samples = ffi.from_buffer("int16_t[]", np.ascontiguousarray(pcm))
        size = self._opus.lib.opus_encode(
            self._state, samples, self.frame_samples, self._out, _MAX_PACKET
        )
        if size < 0:
            raise OpusError(f"opus_encode: {self._opus.error(size)}")
        return bytes(self._out_buffer[0:size])

    @property
    def bit_rate(self) -> int:
        """As libopus reads it back."""
        return self._get(_GET_BITRATE)

    @property
    def complexity(self) -> int:
        return self._get(_GET_COMPLEXITY)

    def _get(self, request: int) -> int:
        value = self._opus.ffi.new("int32_t *")
        self._ctl(request, value)
        return int(value[0])

    def _ctl(self, request: int, argument: object) -> None:
        code = self._opus.lib.opus_encoder_ctl(self._state, request, argument)
        if code != _OK:
            raise OpusError(f"opus_encoder_ctl({request}): {self._opus.error(code)}")


class OpusDecoder:
    """One Opus stream decoded to s16 stereo at 48 kHz, as libavcodec's decoder gave it."""

    def __init__(self) -> None:
        opus = libopus()
        error = opus.ffi.new("int *")
        state = opus.lib.opus_decoder_create(SAMPLE_RATE, CHANNELS, error)
        if error[0] != _OK or state == opus.ffi.NULL:
            raise OpusError(f"opus_decoder_create: {opus.error(error[0])}")
        self._state = opus.ffi.gc(state, opus.lib.opus_decoder_destroy)
        self._opus = opus

    def decode(self, data: bytes) -> Pcm:
        """The packet's samples, shape (samples, 2). OpusError if it is not Opus; the decoder
        keeps its state, so the next packet decodes. An empty packet is refused: a lost one is
        `conceal`ed instead, when its time comes."""
        if not data:
            raise OpusError("an empty packet")
        lib, ffi = self._opus.lib, self._opus.ffi
        samples = lib.opus_decoder_get_nb_samples(self._state, data, len(data))
        if samples < 0 or samples > _MAX_FRAME_SAMPLES:
            raise OpusError(f"opus_decoder_get_nb_samples: {self._opus.error(min(samples, -4))}")
        pcm: Pcm = np.empty((samples, CHANNELS), dtype=np.int16)
        decoded = lib.opus_decode(
            self._state, data, len(data), ffi.from_buffer("int16_t[]", pcm), samples, 0
        )
        if decoded < 0:
            raise OpusError(f"opus_decode: {self._opus.error(decoded)}")
        return pcm if decoded == samples else pcm[:decoded]

    def conceal(self, samples: int) -> Pcm:
        """libopus's estimate of `samples` of audio that never arrived (its packet loss
        concealment): the last frames' voice carried on and fading, rather than a hole. The next
        packet decoded after it joins on smoothly, which a gap of zeros would not."""
        if samples <= 0 or samples > _MAX_FRAME_SAMPLES:
            raise OpusError(f"cannot conceal {samples} samples")
        lib, ffi = self._opus.lib, self._opus.ffi
        pcm: Pcm = np.empty((samples, CHANNELS), dtype=np.int16)
        decoded = lib.opus_decode(
            self._state, ffi.NULL, 0, ffi.from_buffer("int16_t[]", pcm), samples, 0
        )
        if decoded < 0:
            raise OpusError(f"opus_decode (concealment): {self._opus.error(decoded)}")
        return pcm if decoded == samples else pcm[:decoded]


def opus_problems() -> tuple[str, ...]:
    """Why Opus cannot be encoded and decoded here (empty: it can): libopus loads, takes the
    settings, and a 1 kHz tone comes back as a 1 kHz tone at its level."""
    try:
        opus = libopus()
        encoder = OpusEncoder(960, 64_000, "audio")
        if (encoder.bit_rate, encoder.complexity) != (64_000, 10):
            return (f"libopus {opus.version} ({opus.path}) does not keep its settings",)
        decoder = OpusDecoder()
        t = np.arange(960 * 10) / SAMPLE_RATE
        tone = np.repeat((np.sin(2 * np.pi * 1000 * t) * 8000).astype(np.int16), 2).reshape(-1, 2)
        heard = np.concatenate(
            [decoder.decode(encoder.encode(tone[i * 960 : (i + 1) * 960])) for i in range(10)]
        )
        # Past the encoder's look-ahead: the tone's level within 1 dB, its energy at 1 kHz.
        tail = heard[4800:, 0].astype(np.float64)
        level = np.sqrt(np.mean(tail**2)) / (8000 / np.sqrt(2))
        peak = np.argmax(np.abs(np.fft.rfft(tail))) * SAMPLE_RATE / tail.size
        if heard.shape != tone.shape or not 0.89 < level < 1.12 or abs(peak - 1000) > 20:
            return (f"libopus {opus.version} ({opus.path}) does not give a tone back",)
        return ()
    except (OpusUnavailable, OpusError) as exc:
        return (str(exc),)


def require_opus() -> None:
    """Raise OpusUnavailable unless `opus_problems()` finds nothing: run at node start-up, so a
    machine without a working libopus refuses to serve instead of failing every call."""
    problems = opus_problems()
    if problems:
        raise OpusUnavailable(
            "Parley's media needs libopus (the copy in PyAV's wheel, or the system's): "
            + "; ".join(problems)
        )
