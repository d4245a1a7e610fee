"""libopus called directly (parley/media/opus.py): what it encodes, PyAV's own libopus decoder
hears as the tone that went in, at its frequency and level; its decoder hears what PyAV's
encoder made; and where it is the very libopus PyAV loaded, its packets are PyAV's, byte for
byte, so the settings are those the program was encoded with before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from av import CodecContext
from av.audio.codeccontext import AudioCodecContext
from av.packet import Packet

from parley.media.audio import TIME_BASE, pcm_to_frame
from parley.media.opus import (
    Application,
    OpusDecoder,
    OpusEncoder,
    OpusError,
    _candidates,
    libopus,
    opus_problems,
)

RATE = 48_000
TICK = 960
SETTINGS: tuple[tuple[Application, int], ...] = (
    ("audio", 64_000),
    ("voip", 96_000),
)  # the program's, a mix-minus's


def tone(freq: float, amplitude: float, ticks: int) -> list[np.ndarray]:
    t = np.arange(ticks * TICK) / RATE
    left = np.sin(2 * np.pi * freq * t) * amplitude
    right = np.sin(2 * np.pi * freq * t + 0.5) * amplitude / 2  # the channels stay apart
    pcm = np.stack([left, right], axis=1).astype(np.int16)
    return [pcm[i * TICK : (i + 1) * TICK] for i in range(ticks)]


def pyav_decode(packets: list[bytes]) -> np.ndarray:
    codec = CodecContext.create("libopus", "r")
    assert isinstance(codec, AudioCodecContext)
    codec.format, codec.layout, codec.sample_rate = "s16", "stereo", RATE
    out = []
    for i, data in enumerate(packets):
        packet = Packet(data)
        packet.pts, packet.time_base = i * TICK, TIME_BASE
        out += [frame.to_ndarray().reshape(-1, 2) for frame in codec.decode(packet)]
    return np.concatenate(out)


def pyav_encode(ticks: list[np.ndarray], application: str, bit_rate: int) -> list[bytes]:
    codec = CodecContext.create("libopus", "w")
    assert isinstance(codec, AudioCodecContext)
    codec.bit_rate, codec.format, codec.layout = bit_rate, "s16", "stereo"
    codec.sample_rate, codec.time_base = RATE, TIME_BASE
    codec.options = {"application": application, "frame_duration": "20"}
    return [bytes(p) for i, pcm in enumerate(ticks) for p in codec.encode(pcm_to_frame(pcm, i))]


def frequency_and_level(channel: np.ndarray) -> tuple[float, float]:
    """The strongest frequency (Hz) and the RMS level relative to a sine of amplitude 1."""
    samples = channel.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum)) * RATE / samples.size, float(
        np.sqrt(np.mean(samples**2)) * np.sqrt(2)
    )


@pytest.mark.parametrize(("application", "bit_rate"), SETTINGS)
@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0])
def test_a_tone_encoded_here_decodes_back_to_the_tone_with_pyav(
    application: Application, bit_rate: int, freq: float
) -> None:
    encoder = OpusEncoder(TICK, bit_rate, application)
    packets = [encoder.encode(pcm) for pcm in tone(freq, 8000, 50)]
    assert all(0 < len(p) < 1275 for p in packets)
    heard = pyav_decode(packets)
    assert heard.shape == (50 * TICK, 2)
    steady = heard[10 * TICK :]  # past the encoder's look-ahead and start-up
    for channel, amplitude in ((0, 8000), (1, 4000)):
        found, level = frequency_and_level(steady[:, channel])
        assert abs(found - freq) <= RATE / steady.shape[0] * 2, (channel, found)
        assert 20 * np.log10(level / amplitude) == pytest.approx(0, abs=1.0), (channel, level)


def test_settings_are_kept_and_silence_encodes_small() -> None:
    for application, bit_rate in SETTINGS:
        encoder = OpusEncoder(TICK, bit_rate, application)
        assert (encoder.bit_rate, encoder.complexity) == (bit_rate, 10)
        loud = [encoder.encode(pcm) for pcm in tone(440, 8000, 100)]
        # VBR near the set rate (a pure tone takes more than speech would).
        mean_rate = sum(len(p) for p in loud[10:]) * 8 * 50 / 90
        assert 0.5 * bit_rate < mean_rate < 2 * bit_rate, (application, mean_rate)
        quiet = [encoder.encode(np.zeros((TICK, 2), dtype=np.int16)) for _ in range(20)]
        assert len(quiet[-1]) < 10


def test_the_decoder_hears_what_pyav_encoded_as_pyav_does() -> None:
    for application, bit_rate in SETTINGS:
        packets = pyav_encode(tone(1000, 8000, 30), application, bit_rate)
        decoder = OpusDecoder()
        heard = np.concatenate([decoder.decode(p) for p in packets])
        np.testing.assert_array_equal(heard, pyav_decode(packets))


def test_a_bad_packet_is_refused_and_the_next_decodes() -> None:
    packets = [OpusEncoder(TICK, 64_000, "audio").encode(pcm) for pcm in tone(440, 8000, 3)]
    decoder = OpusDecoder()
    assert decoder.decode(packets[0]).shape == (TICK, 2)
    for bad in (b"\xff", b""):
        with pytest.raises(OpusError):
            decoder.decode(bad)
    assert decoder.decode(packets[1]).shape == (TICK, 2)


def test_a_frame_of_the_wrong_shape_is_refused() -> None:
    encoder = OpusEncoder(TICK, 64_000, "audio")
    with pytest.raises(ValueError):
        encoder.encode(np.zeros((480, 2), dtype=np.int16))
    with pytest.raises(ValueError):
        encoder.encode(np.zeros((TICK, 2), dtype=np.float32))


def test_the_self_check_passes() -> None:
    assert opus_problems() == ()


def test_packets_are_pyavs_own_where_it_is_the_libopus_pyav_loaded() -> None:
    mapped = [p for p in _candidates() if Path(p).is_absolute()]
    if libopus().path not in mapped:
        pytest.skip(f"{libopus().path} is not the libopus libavcodec loaded here")
    ticks = [*tone(440, 8000, 20), *([np.zeros((TICK, 2), dtype=np.int16)] * 5)]
    for application, bit_rate in SETTINGS:
        encoder = OpusEncoder(TICK, bit_rate, application)
        assert [encoder.encode(pcm) for pcm in ticks] == pyav_encode(ticks, application, bit_rate)
