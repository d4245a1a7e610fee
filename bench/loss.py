"""What a listener hears when a speaker's packets are lost or late on the way to the server.

One speaker (aiortc, sending a continuous 1 kHz tone) and one listener, on a real node pinned
to one core and the clients on the other. The speaker's sender drops each RTP packet with
probability `--loss`, or holds it back 15 ms, past the mixer's grace (`--late`), from a seeded
generator so that runs compare. The listener keeps the program's Opus packets as they come;
afterwards they are decoded, and each 20 ms packet whose level is more than 20 dB below the
tone's is a *hole* (a gap or click a listener hears), more than 6 dB a *dip*. SINAD is the tone's
power against everything else in the window (noise, clicks, distortion). The node's /metrics
gives the ticks the mixer concealed.

    python -m bench.loss [--loss 0 1 3 5 10] [--late 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
from dataclasses import dataclass

import aiohttp
import numpy as np
from aiortc.rtp import is_rtcp

from bench.common import record, server_process
from bench.media_clients import BURST_HZ, RATE, Peer, Voice, client_session, connect, live_stage
from parley.media.audio import level_dbov
from parley.media.opus import OpusDecoder

HELD_SECONDS = 0.015
HOLE_DB = 20.0
DIP_DB = 6.0
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class Outcome:
    loss: float
    late: float
    sent: int
    dropped: int
    held: int
    packets: int  # program packets the listener got in the window
    holes: int
    dips: int
    sinad_db: float
    concealed: int | None  # ticks the mixer concealed (None: the node does not say)


@dataclass
class Impaired:
    """The speaker's RTP packets so far: sent by its sender, and of those dropped or held back."""

    sent: int = 0
    dropped: int = 0
    held: int = 0


def _impair(peer: Peer, loss: float, late: float, seed: int) -> Impaired:
    """Drop or hold back the speaker's RTP packets on their way out; RTCP goes as it is."""
    counts = Impaired()
    rng = random.Random(seed)
    transport = peer.pc.getTransceivers()[0].sender.transport
    original = transport._send_rtp
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    def later(data: bytes) -> None:
        task = loop.create_task(original(data))
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def send(data: bytes) -> None:
        if is_rtcp(data):
            await original(data)
            return
        counts.sent += 1
        draw = rng.random()
        if draw < loss:
            counts.dropped += 1
        elif draw < loss + late:
            counts.held += 1
            loop.call_later(HELD_SECONDS, later, data)
        else:
            await original(data)

    transport._send_rtp = send  # type: ignore[method-assign]
    return counts


async def _concealed(http: aiohttp.ClientSession, base: str, space_id: str) -> int | None:
    async with http.get(f"{base}/metrics") as r:
        text = await r.text()
    found = re.search(
        rf'^parley_mixer_concealed_ticks_total\{{space="{space_id}"\}} (\S+)$', text, re.M
    )
    return int(float(found.group(1))) if found else None


def _hear(payloads: list[bytes]) -> tuple[int, int, float]:
    """Holes, dips and SINAD (dB) of the program packets, decoded in order."""
    decoder = OpusDecoder()
    frames = [decoder.decode(p) for p in payloads]
    levels = [level_dbov(f) for f in frames]
    tone = statistics.median(levels)
    holes = sum(level < tone - HOLE_DB for level in levels)
    dips = sum(level < tone - DIP_DB for level in levels)
    left = np.concatenate([f[:, 0] for f in frames]).astype(np.float64)
    power = np.abs(np.fft.rfft(left * np.hanning(left.size))) ** 2
    hz = np.fft.rfftfreq(left.size, 1 / RATE)
    near = np.abs(hz - BURST_HZ) <= 20
    sinad = 10 * np.log10(power[near].sum() / max(power[~near].sum(), 1e-9))
    return holes, dips, float(sinad)


async def run(base: str, loss: float, late: float, seconds: float, seed: int) -> Outcome:
    api = f"{base}/api/v1"
    async with client_session() as http:
        stage = await live_stage(http, api, listeners=0, limit=4)
        speaker = await connect(http, api, stage.space_id, stage.speaker, voice=Voice())
        listener = await connect(http, api, stage.space_id, stage.probe, keep=True)
        try:
            counts = _impair(speaker, loss, late, seed)
            await asyncio.sleep(SETTLE_SECONDS)
            assert listener.received is not None
            start = len(listener.received)
            before = await _concealed(http, base, stage.space_id)
            counts.sent = counts.dropped = counts.held = 0  # the window's own
            await asyncio.sleep(seconds)
            after = await _concealed(http, base, stage.space_id)
            window = [payload for _, payload in listener.received[start:]]
        finally:
            await speaker.pc.close()
            await listener.pc.close()
    if len(window) < 0.9 * seconds * RATE / 960:
        raise RuntimeError(f"the listener got {len(window)} packets in {seconds} s")
    holes, dips, sinad = _hear(window)
    concealed = after - before if after is not None and before is not None else None
    return Outcome(
        loss,
        late,
        counts.sent,
        counts.dropped,
        counts.held,
        packets=len(window),
        holes=holes,
        dips=dips,
        sinad_db=sinad,
        concealed=concealed,
    )


def _row(o: Outcome) -> str:
    impairment = f"{100 * o.loss:g} % lost" if o.loss else ""
    if o.late:
        impairment += (", " if impairment else "") + f"{100 * o.late:g} % 15 ms late"
    concealed = "–" if o.concealed is None else f"{o.concealed:,}"
    return (
        f"| {impairment or 'none'} | {o.sent:,} | {o.dropped:,} | {o.held:,} | {o.packets:,} "
        f"| **{o.holes:,}** | {o.dips:,} | {o.sinad_db:.1f} | {concealed} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loss", type=float, nargs="+", default=[0, 1, 3, 5, 10], help="%")
    parser.add_argument("--late", type=float, nargs="+", default=[5], help="%, each alone")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-cpu", default="0")
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.load_cpu})
    plans = [(p / 100, 0.0) for p in args.loss] + [(0.0, p / 100) for p in args.late]
    rows = []
    for loss, late in plans:
        with server_process(cpus=args.server_cpu) as server:  # a fresh node: no state carried
            outcome = asyncio.run(run(server.base, loss, late, args.seconds, args.seed))
        print(outcome, flush=True)
        rows.append(_row(outcome))
    table = "\n".join(
        [
            "| speaker's packets | sent | dropped | held back | program packets heard "
            "| holes (> 20 dB down) | dips (> 6 dB) | SINAD dB | ticks concealed |",
            "|:--|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    if not args.no_record:
        options = [f"--seconds {args.seconds:g}", "--loss", *map(str, args.loss)]
        command = "python -m bench.loss " + " ".join([*options, "--late", *map(str, args.late)])
        record("Audio under packet loss (bench/loss.py)", command, table)


if __name__ == "__main__":
    main()
