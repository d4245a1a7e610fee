"""Inbound audio goes to the decoder as it arrives, in order, without duplicates."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from parley.media.ingress import ImmediateAudioFrames


def packet(sequence: int, timestamp: int) -> RtpPacket:
    p = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=timestamp)
    p.payload = bytes([sequence & 0xFF])
    return p


def released(frames: ImmediateAudioFrames, sequence: int) -> bool:
    pli, frame = frames.add(packet(sequence, sequence * 960))
    assert pli is False
    return frame is not None


def test_every_packet_is_released_at_once_with_its_timestamp() -> None:
    frames = ImmediateAudioFrames()
    for sequence in range(10):
        _pli, frame = frames.add(packet(sequence, sequence * 960))
        assert frame is not None
        assert frame.timestamp == sequence * 960
        assert frame.data == bytes([sequence])


def test_late_and_duplicate_packets_are_dropped_across_the_sequence_wrap() -> None:
    frames = ImmediateAudioFrames()
    assert released(frames, 65534)
    assert released(frames, 65535)
    assert released(frames, 1)  # 0 was lost on the way, or is late
    assert not released(frames, 0)  # late: audio after it already went out
    assert not released(frames, 1)  # duplicate
    assert released(frames, 2)
    assert frames.late == 2
