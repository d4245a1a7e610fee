"""The per-space mixer on its own: CPU per tick, encodes, and the audio delay it adds.

S speakers send 20 ms sine frames at a random phase with Gaussian arrival jitter (as decoded
frames would come out of aiortc); L listeners read the program as fast as it comes (what each
RTCRtpSender does, minus the RTP send); each speaker also reads its mix-minus. Reports process
CPU per tick, tick processing time, program encodes against ticks, and "added": from a frame
reaching the mixer to the tick that published it (p50/p99/max).

    python -m bench.mixer [--speakers 3] [--listeners 0 100 1000] [--seconds 10] [--jitter-ms 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from bench.common import percentile
from parley.media.audio import SAMPLE_RATE, TIME_BASE
from parley.media.mixer import Mixer

TICK = 960


class JitteredSine(MediaStreamTrack):
    kind = "audio"

    def __init__(self, freq: float, jitter: float) -> None:
        super().__init__()
        self.jitter = jitter
        self.n = 0
        self.start: float | None = None
        self.last = 0.0
        t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        self.wave = np.repeat((np.sin(2 * np.pi * freq * t) * 6000).astype(np.int16), 2)

    async def recv(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time() + random.uniform(0, 0.02)
        due = max(self.last, self.start + self.n * 0.02 + random.gauss(0, self.jitter))
        self.last = due
        await asyncio.sleep(max(0.0, due - loop.time()))
        offset = (self.n % 50) * TICK * 2
        frame = AudioFrame.from_ndarray(
            self.wave[offset : offset + TICK * 2].reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self.n * TICK
        frame.time_base = TIME_BASE
        self.n += 1
        return frame


async def drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass


async def run(speakers: int, listeners: int, seconds: float, jitter: float, tune: bool) -> str:
    mixer = Mixer()
    if not tune:
        mixer._phase.window_ticks = 1 << 30  # a fixed, arbitrary phase, for comparison
    names = [f"s{i}" for i in range(speakers)]
    for i, name in enumerate(names):
        mixer.attach(name, JitteredSine(300 + 100 * i, jitter))
    mixer.set_audible(set(names))
    readers = [asyncio.create_task(drain(mixer.program_track())) for _ in range(listeners)]
    readers += [asyncio.create_task(drain(mixer.mix_minus_track(n))) for n in names]
    await mixer.start()
    await asyncio.sleep(2)  # let the phase settle; measure after
    stats = mixer.stats
    stats.added_latency.clear()
    stats.tick_seconds.clear()
    ticks0, encodes0, cpu0 = stats.ticks, stats.encodes, time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu0
    stats = mixer.stats
    ticks, encodes = stats.ticks - ticks0, stats.encodes - encodes0
    added = [x * 1000 for x in stats.added_latency]
    work = [x * 1000 for x in stats.tick_seconds]
    await mixer.stop()
    await asyncio.gather(*readers)
    return (
        f"| {speakers} | {listeners} | {'tuned' if tune else 'fixed'} | {ticks} | {encodes} "
        f"| {cpu / ticks * 1000:.2f} | {percentile(work, 50):.2f} / {percentile(work, 99):.2f} "
        f"| {percentile(added, 50):.1f} / {percentile(added, 99):.1f} / {max(added):.1f} "
        f"| {stats.phase_moves} | {stats.listener_lag} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speakers", type=int, default=3)
    parser.add_argument("--listeners", type=int, nargs="+", default=[0, 100, 1000])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--jitter-ms", type=float, default=2)
    args = parser.parse_args()
    print(
        "| speakers | listeners | phase | ticks | encodes | CPU ms/tick (process) "
        "| tick work ms p50 / p99 | added ms p50 / p99 / max | phase moves | listener lag |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for listeners in args.listeners:
        for tune in (False, True):
            line = await run(args.speakers, listeners, args.seconds, args.jitter_ms / 1000, tune)
            print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
