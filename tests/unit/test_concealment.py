"""A speaker's packet lost or late on the way is not a hole in what listeners hear: the mixer
asks the speaker's decoder (libopus's concealment) for that tick; a packet that was only late
is played after it, and the tick of delay that adds is shed. A muted voice is never carried on.

The mixer runs on looptime's virtual clock: each packet reaches it exactly when the test says,
however busy the machine, so the counts below are exact.
"""

from __future__ import annotations

import asyncio
import statistics

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RtpPacket

from parley.media.audio import SAMPLE_RATE, PcmFrame, level_dbov
from parley.media.ingress import ImmediateAudioFrames
from parley.media.jitter import CONCEAL_TICKS, SourceBuffer
from parley.media.mixer import GRACE_SECONDS, Mixer
from parley.media.program import ProgramEncoder

TICK = 960  # samples in 20 ms
FREQ = 440
HOLE_DBOV = -40.0  # the tone is at about -15 dBov; a tick this quiet is a hole in it


class PcmTrack(MediaStreamTrack):
    """A speaker's track as the ingress fills it."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[PcmFrame] = asyncio.Queue()

    # The ingress puts PcmFrame on a track, which aiortc's annotations do not know of.
    async def recv(self) -> PcmFrame:  # type: ignore[override]
        return await self.queue.get()


def opus_tone(frames: int) -> list[bytes]:
    encoder = ProgramEncoder(application="voip")
    t = np.arange(frames * TICK) / SAMPLE_RATE
    tone = (np.sin(2 * np.pi * FREQ * t) * 8000).astype(np.int16)
    pcm = np.repeat(tone, 2).reshape(-1, 2)
    return [bytes(encoder.encode(pcm[i * TICK : (i + 1) * TICK], i * TICK)) for i in range(frames)]


def rtp(sequence: int, payload: bytes) -> RtpPacket:
    packet = RtpPacket(payload_type=111, sequence_number=sequence, timestamp=sequence * TICK)
    packet.payload = payload
    return packet


async def speak(
    *,
    lost: frozenset[int] | set[int] = frozenset(),
    late: frozenset[int] | set[int] = frozenset(),
    concealment: bool = True,
    offset: float = 0.010,
) -> tuple[list[float], Mixer]:
    """Sixty frames of a tone sent to a mixer, each `offset` after the tick before its own (by
    default in the middle of the interval), but those `lost` never and those `late` 12 ms after
    their tick (past the grace). The level of each tick's program from the first frame's to
    the last's, and the stopped mixer."""
    loop = asyncio.get_running_loop()
    mixer = Mixer(grace=GRACE_SECONDS)
    track = PcmTrack()

    def deliver(frame: PcmFrame) -> None:
        track.queue.put_nowait(frame if concealment else PcmFrame(frame.pcm, frame.pts))

    ingress = ImmediateAudioFrames(deliver)
    program: list[float] = []
    mixer.add_program_sink(lambda pcm, pts: program.append(level_dbov(pcm)))
    await mixer.start()
    mixer.attach("a", track)
    mixer.set_audible({"a"})
    opus = opus_tone(60)
    start = loop.time()  # the mixer's ticks are at start + 20 ms * n
    try:
        for number, payload in enumerate(opus):
            # The first sets the pace, in the middle of an interval; the others come at `offset`.
            at = start + number * 0.02 + (0.032 if number in late else offset if number else 0.01)
            await asyncio.sleep(max(0.0, at - loop.time()))
            if number not in lost:
                ingress.add(rtp(number, payload))
        await asyncio.sleep(0.1)
    finally:
        await mixer.stop()
    heard = [i for i, level in enumerate(program) if level > HOLE_DBOV]
    return program[heard[0] : heard[0] + 60], mixer


def holes(levels: list[float]) -> int:
    return sum(level < HOLE_DBOV for level in levels)


@pytest.mark.looptime
async def test_lost_packets_are_concealed_instead_of_heard_as_holes() -> None:
    lost = {15, 25, 26, 40}
    levels, mixer = await speak(lost=lost)
    assert holes(levels) == 0
    # One tick a lost packet, and the voice's fade after the last frame, when it stops.
    assert mixer.stats.concealed_ticks == len(lost) + CONCEAL_TICKS
    # Without concealment, the same losses are holes in the voice, one a lost packet.
    levels, mixer = await speak(lost=lost, concealment=False)
    assert holes(levels) == len(lost)
    assert mixer.stats.concealed_ticks == 0


@pytest.mark.looptime
async def test_a_packet_past_the_grace_is_concealed_then_played_and_the_delay_shed() -> None:
    levels, mixer = await speak(late={12})
    assert holes(levels) == 0
    # Its tick concealed, and the two where the voice fades after the last frame.
    assert mixer.stats.concealed_ticks == 1 + CONCEAL_TICKS
    # The late frame (and the one that came with it) is played after the concealment, a tick
    # behind, until the drift check sheds the tick that stood (within two of its 10-tick
    # windows): the voice then waits no longer than before, 10 ms (mid-interval arrivals; less
    # once the phase tuner moves the tick closer to them).
    added = [round(seconds, 3) for seconds in mixer.stats.added_latency]
    assert set(added[:12]) == {0.01} and max(added[-20:]) <= 0.01
    assert 0.03 in added[12:-20]
    assert mixer.stats.dropped_samples == TICK


@pytest.mark.looptime
async def test_after_a_lost_packet_the_next_one_still_has_the_grace() -> None:
    # Each frame comes 1 ms after its tick, and the tick waits for it (the grace). The frame
    # after lost ones is due a frame after their time, not a frame after the last arrival: the
    # tick waits for it too, rather than conceal a third tick in a row (a hole) and put the
    # voice a tick behind.
    levels, mixer = await speak(lost={20, 30, 31}, offset=0.021)
    assert holes(levels) == 0
    assert mixer.stats.concealed_ticks == 3 + CONCEAL_TICKS
    assert max(list(mixer.stats.added_latency)[1:]) < 0.005  # after the first, none waited


@pytest.mark.looptime
async def test_a_speaker_who_stops_sending_falls_silent_after_a_few_concealed_ticks() -> None:
    levels, mixer = await speak(lost=set(range(30, 60)))
    assert mixer.stats.concealed_ticks == CONCEAL_TICKS
    assert holes(levels[30 : 30 + CONCEAL_TICKS]) == 0
    assert holes(levels[30 + CONCEAL_TICKS :]) == 60 - 30 - CONCEAL_TICKS


async def waits(every: int, *, lost: bool) -> list[float]:
    """Four hundred frames, each in the middle of an interval, but every `every`th (0: none)
    lost or 10 ms after its tick (past the grace); how long each frame waited in the mixer, in
    ms, after the first hundred (once its tick's phase had settled), in order."""
    loop = asyncio.get_running_loop()
    mixer = Mixer(grace=GRACE_SECONDS)
    track = PcmTrack()
    ingress = ImmediateAudioFrames(track.queue.put_nowait)
    await mixer.start()
    mixer.attach("a", track)
    mixer.set_audible({"a"})
    start = loop.time()
    try:
        for number, payload in enumerate(opus_tone(400)):
            odd = every and number % every == every // 2
            late = odd and not lost
            at = start + number * 0.02 + (0.030 if late else 0.010)
            await asyncio.sleep(max(0.0, at - loop.time()))
            if not (odd and lost):
                ingress.add(rtp(number, payload))
        await asyncio.sleep(0.05)
    finally:
        await mixer.stop()
    return [1000 * seconds for seconds in list(mixer.stats.added_latency)[100:]]


@pytest.mark.looptime
async def test_lost_packets_do_not_make_the_mixer_hold_the_voice_longer() -> None:
    # The tick's phase moves to just after the frames arrive, and later when they come late.
    # A lost packet leaves a tick with nothing too, but says nothing of when frames arrive:
    # counted as late, five per cent lost moved the ticks later window after window (waits
    # wandering from 6 to 14 ms, for every listener, instead of a steady 3).
    clean = await waits(0, lost=False)
    assert max(clean) <= 4.0
    assert max(await waits(20, lost=True)) <= max(clean) + 0.5
    # Frames that do come late still move the ticks later, so that fewer miss them.
    assert statistics.median(await waits(20, lost=False)) > statistics.median(clean) + 2


def test_a_buffer_conceals_only_a_voice_it_was_playing() -> None:
    buffer = SourceBuffer(capacity=3 * TICK)
    asked: list[int] = []

    def concealer(samples: int) -> np.ndarray:
        asked.append(samples)
        return np.full((samples, 2), 7, dtype=np.int16)

    buffer.concealer = concealer
    assert buffer.conceal(TICK) is None  # nothing was played yet
    buffer.push(np.ones((TICK, 2), dtype=np.int16), 0.0)
    assert buffer.pull(TICK) is not None
    for _ in range(CONCEAL_TICKS):
        concealed = buffer.conceal(TICK)
        assert concealed is not None and concealed.shape == (TICK, 2)
    assert buffer.conceal(TICK) is None  # not for ever: the speaker may have stopped
    # Muted (or removed): what was said before is never carried on into the tick after.
    buffer.push(np.ones((TICK, 2), dtype=np.int16), 0.02)
    assert buffer.pull(TICK) is not None
    buffer.clear()
    assert buffer.conceal(TICK) is None
    assert asked == [TICK] * CONCEAL_TICKS
