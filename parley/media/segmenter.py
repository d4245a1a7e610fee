"""The program as HLS segments: AAC-LC in MPEG-TS, encoded once per space, off the mixer's clock.

Why MPEG-TS and not fragmented MP4: both play everywhere HLS plays (Safari natively, every other
browser through hls.js, which transmuxes TS), but each TS segment stands alone (its own PAT/PMT
and ADTS headers), so PyAV writes it with one short-lived muxer per segment and nothing else;
CMAF would need an init segment split out of the muxer's output by hand, and every segment would
depend on it.

One AAC encoder lives as long as the segmenter, and segments are cut between its packets, so
timestamps run on across segments without a gap: no encoder priming or padding at each boundary,
hence no click. Silence is audio too: the mixer hands over every tick, spoken or not, and ticks
that never came (a stalled loop, a full queue) are filled with silence, so the segments' timeline
keeps pace with the wall clock.

LL-HLS parts (optional) are the same packets muxed a second time, a few frames per standalone
MPEG-TS, so a player can fetch the live edge every half second without waiting for a segment.
"""

from __future__ import annotations

import fractions
import io
import math
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from av.container import OutputContainer
from av.stream import Stream

from parley.media.audio import SAMPLE_RATE, Pcm, pcm_to_frame, silence

BIT_RATE = 96_000  # AAC-LC stereo: transparent for speech, ~24 KB per 2 s segment
# The AAC encoder's priming: its first packet starts this many samples before the first input
# sample. Input is stamped this late so that packet timestamps start at zero.
AAC_PRIMING = 1024
AAC_FRAME = 1024  # samples per AAC-LC frame (one packet)
# A gap in the mixer's timeline longer than this is filled only this far (a loop stalled that
# long has bigger problems; filling minutes of silence would only delay the live edge).
MAX_GAP_SAMPLES = 10 * SAMPLE_RATE
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# Lets the muxer gather several AAC frames into one PES packet (up to ~0.5 s of audio) instead
# of one per 21 ms frame: a third less TS overhead. Timestamps all move by the same constant.
MUXER_OPTIONS = {"max_delay": "500000"}


@dataclass(frozen=True)
class EncodedPart:
    """An LL-HLS part: a standalone MPEG-TS of a few AAC frames, the same packets its segment
    holds (muxed twice, encoded once)."""

    segment: int  # the index of its segment on this segmenter's timeline
    index: int  # within the segment
    samples: int
    data: bytes

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


@dataclass(frozen=True)
class EncodedSegment:
    index: int  # 0, 1, 2... on this segmenter's timeline
    start_sample: int  # timeline position of its first sample (priming included in the first)
    samples: int
    data: bytes

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


class AacSegmenter:
    """Program PCM in, whole MPEG-TS segments out; synchronous, no threads, no clock.

    `pts` is the mixer's media clock (samples at 48 kHz): any gap between what was pushed and
    the next `pts` is filled with silence, overlap is dropped.
    """

    def __init__(
        self, segment_seconds: float, bit_rate: int = BIT_RATE, part_seconds: float = 0.0
    ) -> None:
        self.segment_samples = round(segment_seconds * SAMPLE_RATE)
        if self.segment_samples < 2048:
            raise ValueError("segments must hold at least two AAC frames")
        # Parts are whole AAC frames, rounded up: none is longer than `part_target` seconds,
        # and the last of a segment may be shorter (RFC 8216bis allows that one).
        self.part_frames = math.ceil(part_seconds * SAMPLE_RATE / AAC_FRAME) if part_seconds else 0
        self.part_target = self.part_frames * AAC_FRAME / SAMPLE_RATE
        # How many parts a segment has: segments are cut between frames, so they hold the
        # frame count rounded down or up.
        frames = self.segment_samples / AAC_FRAME
        self.parts_per_segment = (
            (
                math.ceil(math.floor(frames) / self.part_frames),
                math.ceil(math.ceil(frames) / self.part_frames),
            )
            if self.part_frames
            else (0, 0)
        )
        encoder = av.CodecContext.create("aac", "w")
        assert isinstance(encoder, av.AudioCodecContext)
        encoder.sample_rate = SAMPLE_RATE
        encoder.layout = "stereo"
        encoder.format = "fltp"
        encoder.bit_rate = bit_rate
        encoder.time_base = TIME_BASE
        # FFmpeg's default "twoloop" coder costs ~2 ms per 20 ms of audio on one core here;
        # "fast" ~0.3 ms, and speech at 96 kb/s does not tell them apart.
        encoder.options = {"aac_coder": "fast"}
        encoder.open()
        self._encoder = encoder
        self._next_pts: int | None = None  # mixer pts expected next
        self._fed = 0  # samples given to the encoder so far
        self._index = 0
        self._buffer: io.BytesIO | None = None
        self._container: OutputContainer | None = None
        self._stream: Stream | None = None
        self._start = 0  # first packet pts of the open segment
        self._end = 0  # pts just after the last packet muxed
        self._part: _Muxer | None = None
        self._part_index = 0  # of the open (or next) part within the open segment
        self._part_packets = 0
        # Parts and segments in the order they were made, for whoever publishes them (`drain`).
        self._made: list[EncodedPart | EncodedSegment] = []

    def drain(self) -> list[EncodedPart | EncodedSegment]:
        """Everything made since the last call, in order: a segment's parts come before it."""
        made, self._made = self._made, []
        return made

    def push(self, pcm: Pcm, pts: int) -> list[EncodedSegment]:
        if self._next_pts is None:
            self._next_pts = pts
        gap = pts - self._next_pts
        self._next_pts = max(self._next_pts, pts + len(pcm))
        done: list[EncodedSegment] = []
        if gap < 0:
            pcm = pcm[min(len(pcm), -gap) :]
        elif gap > 0:
            done += self._encode(silence(min(gap, MAX_GAP_SAMPLES)))
        if len(pcm):
            done += self._encode(pcm)
        return done

    def finish(self) -> list[EncodedSegment]:
        """Flush the encoder and close the last segment, however short."""
        done = self._mux(self._encoder.encode(None))
        if self._container is not None:
            done.append(self._close())
        return done

    def _encode(self, pcm: Pcm) -> list[EncodedSegment]:
        frame = pcm_to_frame(np.ascontiguousarray(pcm, dtype=np.int16), AAC_PRIMING + self._fed)
        self._fed += len(pcm)
        return self._mux(self._encoder.encode(frame))

    def _mux(self, packets: list[av.Packet[Any]]) -> list[EncodedSegment]:
        done: list[EncodedSegment] = []
        for packet in packets:
            # Read before muxing: the muxer rescales the packet to its own 90 kHz time base
            # (and takes its data).
            pts = packet.pts if packet.pts is not None else self._end
            duration = packet.duration or AAC_FRAME
            data = bytes(packet) if self.part_frames else b""
            if self._container is not None and pts >= (self._index + 1) * self.segment_samples:
                done.append(self._close())
                self._index += 1
            if self._container is None:
                self._buffer, self._container, self._stream = _open_muxer(self._encoder)
                self._start = pts
            packet.stream = self._stream
            assert self._container is not None
            self._container.mux(packet)
            self._end = pts + duration
            if self.part_frames:
                self._mux_part(data, pts, duration)
        return done

    def _mux_part(self, data: bytes, pts: int, duration: int) -> None:
        if self._part is None:
            self._part = _Muxer(*_open_muxer(self._encoder), start=pts)
        copy = av.Packet(data)
        copy.pts = copy.dts = pts
        copy.duration = duration
        copy.time_base = TIME_BASE
        copy.stream = self._part.stream
        self._part.container.mux(copy)
        self._part_packets += 1
        if self._part_packets >= self.part_frames:
            self._close_part()

    def _close_part(self) -> None:
        if self._part is None:
            return
        self._part.container.close()
        part = EncodedPart(
            self._index,
            self._part_index,
            self._end - self._part.start,
            self._part.buffer.getvalue(),
        )
        self._made.append(part)
        self._part, self._part_index, self._part_packets = None, self._part_index + 1, 0

    def _close(self) -> EncodedSegment:
        assert self._container is not None and self._buffer is not None
        self._close_part()
        self._part_index = 0
        self._container.close()
        segment = EncodedSegment(
            self._index, self._start, self._end - self._start, self._buffer.getvalue()
        )
        self._made.append(segment)
        self._container = self._buffer = self._stream = None
        return segment


@dataclass
class _Muxer:
    buffer: io.BytesIO
    container: OutputContainer
    stream: Stream
    start: int  # pts of its first packet


def _open_muxer(encoder: av.AudioCodecContext) -> tuple[io.BytesIO, OutputContainer, Stream]:
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format="mpegts", container_options=MUXER_OPTIONS)
    stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    stream.bit_rate = encoder.bit_rate or BIT_RATE
    stream.time_base = TIME_BASE
    return buffer, container, stream
