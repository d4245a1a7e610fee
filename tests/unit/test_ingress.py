"""Inbound audio is decoded as it arrives, in order, without duplicates, and its frames go
straight to the track: aiortc's decoder thread is never handed a packet."""

from __future__ import annotations

import numpy as np
from aiortc import RTCPeerConnection
from aiortc.rtcrtpreceiver import RemoteStreamTrack
from aiortc.rtp import RtpPacket

from parley.media.audio import PcmFrame
from parley.media.ingress import ImmediateAudioFrames, receive_without_delay
from parley.media.program import ProgramEncoder


def packet(sequence: int, timestamp: int, payload: bytes | None = None) -> RtpPacket:
    p = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=timestamp)
    p.payload = bytes([sequence & 0xFF]) if payload is None else payload
    return p


class BytesAsSamples:
    """A stand-in decoder: a packet's bytes are its samples."""

    def decode(self, data: bytes) -> np.ndarray:
        return np.frombuffer(data, dtype=np.uint8).astype(np.int16)

    def conceal(self, samples: int) -> np.ndarray:
        raise AssertionError("nothing is concealed here")


def assembler() -> tuple[ImmediateAudioFrames, list[tuple[bytes, int]]]:
    delivered: list[tuple[bytes, int]] = []

    def deliver(frame: PcmFrame) -> None:
        delivered.append((frame.pcm.astype(np.uint8).tobytes(), frame.pts))

    return ImmediateAudioFrames(deliver, BytesAsSamples()), delivered


def test_every_packet_is_decoded_at_once_and_nothing_is_left_for_aiortc() -> None:
    frames, delivered = assembler()
    for sequence in range(10):
        pli, frame = frames.add(packet(sequence, sequence * 960))
        assert (pli, frame) == (False, None)  # aiortc's decoder thread gets nothing
        assert delivered[-1] == (bytes([sequence]), sequence * 960)
    assert len(delivered) == 10


def test_late_and_duplicate_packets_are_dropped_across_the_sequence_wrap() -> None:
    frames, delivered = assembler()
    for sequence in (65534, 65535, 1, 0, 1, 2):  # 0 late (1 went out), then 1 again
        frames.add(packet(sequence, 0))
    assert [data[0] for data, _ in delivered] == [0xFE, 0xFF, 1, 2]
    assert frames.late == 2


def test_real_opus_becomes_20_ms_frames_and_a_bad_packet_does_not_stop_the_stream() -> None:
    encoder = ProgramEncoder(application="voip")
    tone = (np.sin(np.arange(960) / 48_000 * 2 * np.pi * 440) * 8000).astype(np.int16)
    pcm = np.repeat(tone, 2).reshape(-1, 2)
    opus = [bytes(encoder.encode(pcm, i * 960)) for i in range(3)]
    delivered: list[PcmFrame] = []
    frames = ImmediateAudioFrames(delivered.append)
    frames.add(packet(1, 0, opus[0]))
    frames.add(packet(2, 960, b"\xff"))  # not Opus
    frames.add(packet(3, 1920, b""))  # empty: must not drain the decoder
    frames.add(packet(4, 2880, opus[1]))
    frames.add(packet(5, 3840, opus[2]))
    assert frames.undecodable == 1
    assert [(f.pcm.shape, f.pcm.dtype.name, f.pts) for f in delivered] == [
        ((960, 2), "int16", t) for t in (0, 2880, 3840)
    ]


def opus_tone(frames: int) -> list[bytes]:
    encoder = ProgramEncoder(application="voip")
    t = np.arange(frames * 960) / 48_000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    pcm = np.repeat(tone, 2).reshape(-1, 2)
    return [bytes(encoder.encode(pcm[i * 960 : (i + 1) * 960], i * 960)) for i in range(frames)]


def peak_hz(pcm: np.ndarray) -> float:
    left = pcm[:, 0].astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(left, 48_000))))


def test_a_missing_frames_time_is_concealed_and_a_late_packet_still_played() -> None:
    opus = opus_tone(10)
    delivered: list[PcmFrame] = []
    frames = ImmediateAudioFrames(delivered.append)
    assert frames.conceal(960) is None  # no voice yet to carry on
    for sequence in range(5):
        frames.add(packet(sequence, sequence * 960, opus[sequence]))
    conceal = delivered[-1].conceal
    assert conceal is not None
    # The mixer's tick found no frame 5: the decoder carries the tone on, not a hole.
    concealed = conceal(960)
    assert concealed is not None and concealed.shape == (960, 2)
    assert np.sqrt(np.mean(concealed[:, 0].astype(np.float64) ** 2)) > 2000
    assert abs(peak_hz(concealed) - 440) <= 2
    # Frame 5 was only late: it is played after the concealment, and the stream goes on.
    frames.add(packet(5, 5 * 960, opus[5]))
    frames.add(packet(6, 6 * 960, opus[6]))
    assert [f.pts for f in delivered[5:]] == [5 * 960, 6 * 960]
    assert frames.late == 0 and frames.concealed_samples == 960


async def test_a_receiver_puts_decoded_frames_on_its_track() -> None:
    pc = RTCPeerConnection()
    receiver = pc.addTransceiver("audio", direction="recvonly").receiver
    receiver._track = RemoteStreamTrack("audio")  # what setRemoteDescription gives it
    receive_without_delay(receiver)
    encoder = ProgramEncoder(application="voip")
    silence = np.zeros((960, 2), dtype=np.int16)
    opus = encoder.encode(silence, 0)
    assembler = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
    assembler.add(packet(7, 0, bytes(opus)))
    frame = await receiver.track.recv()
    assert isinstance(frame, PcmFrame) and frame.pcm.shape == (960, 2)
    await pc.close()
