"""Live audio through a real server: WebRTC listeners per core, and the audio delay it adds.

1. Listeners per core. One speaker (an aiortc client sending a tone at real-time pace) on stage
   and N listeners, each its own account that signs up, joins and offers to receive only. Once
   every listener is connected and audio flows, the server's CPU over a steady window gives
   listeners per core (N / fraction of one core busy); each listener's packet rate (expect 50/s
   with 20 ms Opus) shows whether the server keeps up.
2. Audio added by the server. The speaker sends 40 ms bursts of 1 kHz every 300 ms and notes
   when the first frame of each burst leaves its track (aiortc encodes it at once) and when the
   RTP packet carrying it is sent; a probe listener notes when each packet arrives. Decoding the
   probe's packets afterwards finds each burst's onset: arrival minus sending is what the server
   added (one machine, loopback: the network is about zero and nothing is subtracted). Measured
   with 0 listeners and again with listeners connected, since the server's load matters.

The load client must be light, so listeners neither decrypt nor decode: once connected, each
listener's UDP socket counts the SRTP datagrams it receives and hands only every 25th to aiortc
(which keeps the statistics its RTCP receiver reports are made of, sent as a real client would);
DTLS, STUN and RTCP still go through aiortc (media_clients.py). The listeners run in a child
process (media_fleet.py); the speaker and the probe (which decrypts and keeps every packet) in
this one. The server is a real `parley
serve` process (server_process()) pinned to one core, the load to the other (taskset,
sched_setaffinity). A run where not every listener connects, or one falls below full rate,
is a failure: its row says so, and the command exits non-zero.

    python -m bench.media [--listeners 200 400 800] [--seconds 15] [--bursts 100]
                          [--latency-listeners 0 100 400] [--concurrency 10] [--profile out.txt]
                          [--native] [--settle 10]
                          [--server-cpu 0] [--load-cpu 1]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import numpy as np
from av import CodecContext, Packet
from av.audio.codeccontext import AudioCodecContext

from bench.common import machine_cpu_seconds, percentile, record, server_process
from bench.media_clients import (
    FRAME,
    PACKETS_PER_SECOND,
    PASS_EVERY,
    RATE,
    Voice,
    client_session,
    connect,
    live_stage,
)
from bench.media_fleet import Fleet

# A listener is "at full rate" if it got at least this share of the packets the program has.
FULL_RATE = 0.95
BURST_PERIOD_FRAMES = 15  # a burst every 300 ms...
BURST_FRAMES = 2  # ...of 40 ms of tone
# A decoded packet with a sample louder than this carries the tone (its peak is 8,191); silence
# decodes to 0.
LOUD_PEAK = 1000
# Hundreds of sign-ups at once: the argon2 gate's short queue (503 busy) is not measured here.
SERVER_ENV = {"PARLEY_ARGON2_QUEUE": "10000"}


# -- 1. listeners per core -----------------------------------------------------------------


def _py_spy() -> str:
    """py-spy, found on PATH or next to this Python (pip install py-spy)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    return spy


async def _profile(spy: str, pid: int, seconds: float, output: Path, native: bool) -> None:
    """Sample the server with py-spy (collapsed stacks) while it serves: without pausing it, or
    with the C frames too (`native`: py-spy then pauses it for each sample)."""
    process = await asyncio.create_subprocess_exec(
        *(spy, "record", "-p", str(pid), "-d", str(round(seconds)), "-r", "200"),
        *(("--native",) if native else ("--nonblocking",)),
        *("-f", "raw", "-o", str(output)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await process.wait()


async def listeners_per_core(
    n: int,
    seconds: float,
    limit: int,
    profile: tuple[str, Path, bool] | None,
    server_cpu: str,
    settle: float,
) -> dict[str, float]:
    with server_process(server_cpu, **SERVER_ENV) as server:
        api = f"{server.base}/api/v1"
        async with client_session() as http:
            stage = await live_stage(http, api, n, 50)
            speaker = await connect(http, api, stage.space_id, stage.speaker, voice=Voice())
            fleet = Fleet(api, stage.space_id, stage.listeners, limit)
            try:
                setup, _ = await fleet.ready()
                # Let every connection settle: the seconds after the last one connects cost more
                # (at 200 listeners, 48 % of the server's core 3 s after, 41 % 12 s after).
                await asyncio.sleep(settle)
                before, cpu_before = await fleet.mark(), server.cpu_seconds()
                own_before, machine_before = time.process_time(), machine_cpu_seconds()
                await asyncio.sleep(seconds)
                after, cpu_after = await fleet.mark(), server.cpu_seconds()
                own = time.process_time() - own_before
                machine = machine_cpu_seconds() - machine_before
                rss = server.rss_mib()
                if profile is not None:
                    spy, output, native = profile
                    await _profile(spy, server.pid, min(seconds, 10), output, native)
            finally:
                await fleet.close()
                await speaker.pc.close()
    elapsed = after.at - before.at
    rates = [(b - a) / elapsed for a, b in zip(before.packets, after.packets, strict=True)]
    kbps = [8 * (b - a) / elapsed / 1000 for a, b in zip(before.bytes, after.bytes, strict=True)]
    busy = (cpu_after - cpu_before) / elapsed
    client = (after.cpu - before.cpu + own) / elapsed
    return {
        "listeners": n,
        "connected": after.connected,
        "setup_seconds": setup,
        "server_cpu_fraction": busy,
        "listeners_per_core": n / busy if busy > 0 else float("inf"),
        "server_rss_mib": rss,
        "packets_per_second_p50": percentile(rates, 50),
        "packets_per_second_min": min(rates),
        "full_rate_share": sum(r >= FULL_RATE * PACKETS_PER_SECOND for r in rates) / n,
        "payload_kbps_p50": percentile(kbps, 50),
        "client_cpu_fraction": client,
        "machine_cpu_fraction": machine / elapsed,
        "others_cpu_fraction": machine / elapsed - busy - client,
    }


# -- 2. audio added by the server ----------------------------------------------------------


def _onsets(packets: list[tuple[float, bytes]]) -> list[float]:
    """Times of the packets where a burst starts: loud after quiet, decoded in order."""
    codec = CodecContext.create("libopus", "r")
    assert isinstance(codec, AudioCodecContext)
    codec.format = "s16"
    codec.layout = "stereo"
    codec.sample_rate = RATE
    onsets: list[float] = []
    loud_before = True  # a stream that starts loud has no onset to time
    for at, payload in packets:
        frames = codec.decode(Packet(payload))
        loud = any(int(np.abs(f.to_ndarray().astype(np.int32)).max()) > LOUD_PEAK for f in frames)
        if loud and not loud_before:
            onsets.append(at)
        loud_before = loud
    return onsets


def _after(times: list[float], moment: float, within: float) -> float | None:
    index = bisect.bisect_left(times, moment)
    if index < len(times) and times[index] - moment <= within:
        return times[index]
    return None


@dataclass
class Phase:
    listeners: int
    connected: int
    start: float
    end: float
    server_cpu_fraction: float
    machine_cpu_fraction: float
    mixer: dict[str, float]  # the server's own mixer figures (/metrics) at the phase's end


# What /metrics says of the mixer, to tell a tick's own delay from the paths around it.
MIXER_METRICS = re.compile(
    r'^parley_mixer_(added_latency_seconds\{[^}]*quantile="([0-9.]+)"[^}]*\}'
    r"|skipped_ticks_total|grace_waits_total|grace_catches_total|phase_moves_total)"
    r"(?:\{[^}]*\})? ([0-9.e+-]+)$",
    re.MULTILINE,
)


async def _mixer_metrics(http: aiohttp.ClientSession, base: str) -> dict[str, float]:
    async with http.get(f"{base}/metrics") as r:
        text = await r.text()
    figures = {}
    for match in MIXER_METRICS.finditer(text):
        name, quantile, value = match.groups()
        key = f"added_p{float(quantile) * 100:g}_ms" if quantile else name.removesuffix("_total")
        figures[key] = float(value) * (1000 if quantile else 1)
    return figures


async def added_latency(
    levels: list[int], bursts: int, limit: int, server_cpu: str
) -> list[dict[str, float]]:
    voice = Voice(BURST_PERIOD_FRAMES, BURST_FRAMES)
    window = bursts * BURST_PERIOD_FRAMES * FRAME / RATE + 0.5
    phases: list[Phase] = []
    fleets: list[Fleet] = []
    with server_process(server_cpu, **SERVER_ENV) as server:
        api = f"{server.base}/api/v1"
        async with client_session() as http:
            stage = await live_stage(http, api, max(levels), 50)
            speaker = await connect(http, api, stage.space_id, stage.speaker, voice=voice)
            probe = await connect(http, api, stage.space_id, stage.probe, keep=True)
            offered = connected = 0
            try:
                await asyncio.sleep(2)
                for level in levels:
                    if level > offered:
                        fleet = Fleet(api, stage.space_id, stage.listeners[offered:level], limit)
                        fleets.append(fleet)
                        _, up = await fleet.ready()
                        offered, connected = level, connected + up
                        await asyncio.sleep(3)
                    start, cpu = time.monotonic(), server.cpu_seconds()
                    machine = machine_cpu_seconds()
                    await asyncio.sleep(window)
                    end = time.monotonic()
                    cpu = server.cpu_seconds() - cpu
                    machine = machine_cpu_seconds() - machine
                    phases.append(
                        Phase(
                            level,
                            connected,
                            start,
                            end,
                            cpu / (end - start),
                            machine / (end - start),
                            await _mixer_metrics(http, server.base),
                        )
                    )
            finally:
                for fleet in fleets:
                    await fleet.close()
                await probe.pc.close()
                await speaker.pc.close()
    assert probe.received is not None and speaker.sent is not None
    heard = _onsets(probe.received)
    sent = _onsets(speaker.sent)
    results = []
    for phase in phases:
        server_only: list[float] = []
        hand_off: list[float] = []
        lost = 0
        period = BURST_PERIOD_FRAMES * FRAME / RATE
        measured = [t for t in voice.onsets if phase.start <= t <= phase.end - period]
        for onset in measured[:bursts]:
            wire = _after(sent, onset, 0.1)
            arrival = None if wire is None else _after(heard, wire, period / 2)
            if wire is None or arrival is None:
                lost += 1
                continue
            server_only.append(arrival - wire)
            hand_off.append(arrival - onset)
        results.append(
            {
                "listeners": phase.listeners,
                "connected": phase.connected,
                "bursts": len(measured[:bursts]),
                "lost": lost,
                "server_p50_ms": percentile(server_only, 50) * 1000,
                "server_p99_ms": percentile(server_only, 99) * 1000,
                "server_max_ms": max(server_only, default=float("nan")) * 1000,
                "hand_off_p50_ms": percentile(hand_off, 50) * 1000,
                "hand_off_p99_ms": percentile(hand_off, 99) * 1000,
                "hand_off_max_ms": max(hand_off, default=float("nan")) * 1000,
                "server_cpu_fraction": phase.server_cpu_fraction,
                "machine_cpu_fraction": phase.machine_cpu_fraction,
                **{f"mixer_{k}": v for k, v in phase.mixer.items()},
            }
        )
    return results


# -- the command ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listeners", type=int, nargs="+", default=[200, 400, 800])
    parser.add_argument("--seconds", type=float, default=15.0, help="steady window per N")
    parser.add_argument(
        "--settle", type=float, default=10.0, help="seconds from the last connection to the window"
    )
    parser.add_argument("--bursts", type=int, default=100, help="bursts timed per load (0: skip)")
    parser.add_argument("--latency-listeners", type=int, nargs="+", default=[0, 100, 400])
    parser.add_argument("--concurrency", type=int, default=10, help="listeners connecting at once")
    parser.add_argument(
        "--profile", type=Path, help="py-spy collapsed stacks of the server at the largest N"
    )
    parser.add_argument(
        "--native", action="store_true", help="--profile with C frames (pauses each sample)"
    )
    parser.add_argument("--server-cpu", default="0", help="the core the server is pinned to")
    parser.add_argument("--load-cpu", type=int, default=1, help="the core of the load client")
    args = parser.parse_args()
    # The listeners' process is spawned from this one and inherits its core.
    os.sched_setaffinity(0, {args.load_cpu})
    load_before = os.getloadavg()

    spy = _py_spy() if args.profile else None
    rows = []
    failures = []
    for n in args.listeners:
        profile = (spy, args.profile, args.native) if spy and n == max(args.listeners) else None
        r = asyncio.run(
            listeners_per_core(
                n, args.seconds, args.concurrency, profile, args.server_cpu, args.settle
            )
        )
        print(json.dumps(r))
        verdict = "ok"
        if r["connected"] < n or r["full_rate_share"] < 1:
            verdict = f"**failed** ({r['connected']:.0f} connected, "
            verdict += f"{100 * r['full_rate_share']:.0f} % at full rate)"
            failures.append(f"{n} listeners: {verdict}")
        rows.append(
            f"| {n:,} | {verdict} | {r['connected']:.0f} | {r['setup_seconds']:.1f} | "
            f"{100 * r['server_cpu_fraction']:.0f} % | **{r['listeners_per_core']:.0f}** | "
            f"{r['server_rss_mib']:.0f} | {r['packets_per_second_p50']:.1f} | "
            f"{r['packets_per_second_min']:.1f} | {100 * r['full_rate_share']:.0f} % | "
            f"{r['payload_kbps_p50']:.0f} | {100 * r['client_cpu_fraction']:.0f} % | "
            f"{100 * r['others_cpu_fraction']:.0f} % |"
        )
    table = "\n".join(
        [
            "| listeners | run | connected | setup s | server CPU (one core) | listeners per core "
            "| server RSS MiB | packets/s per listener p50 | min | at full rate | SRTP kbit/s "
            "| load client CPU | other work's CPU |",
            "|---:|:--|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)

    latency = ""
    if args.bursts > 0:
        results = asyncio.run(
            added_latency(args.latency_listeners, args.bursts, args.concurrency, args.server_cpu)
        )
        lines = []
        for r in results:
            print(json.dumps(r))
            if r["connected"] < r["listeners"]:
                failures.append(f"latency at {r['listeners']}: {r['connected']:.0f} connected")
            lines.append(
                f"| {r['listeners']:,} | {r['connected']:.0f} | {r['bursts']:.0f} | "
                f"{r['lost']:.0f} | "
                f"{r['server_p50_ms']:.1f} | **{r['server_p99_ms']:.1f}** | "
                f"{r['server_max_ms']:.1f} | {r['hand_off_p50_ms']:.1f} | "
                f"{r['hand_off_p99_ms']:.1f} | {r['hand_off_max_ms']:.1f} | "
                f"{100 * r['server_cpu_fraction']:.0f} % | "
                f"{100 * r['machine_cpu_fraction']:.0f} % |"
            )
        latency = "\n".join(
            [
                "| listeners | connected | bursts | not heard | server added p50 ms | p99 ms "
                "| max ms | from hand-off p50 ms | p99 ms | max ms | server CPU "
                "| machine CPU (all) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
                *lines,
            ]
        )
        print(latency)

    load_after = os.getloadavg()
    command = "python -m bench.media --listeners " + " ".join(map(str, args.listeners))
    command += f" --seconds {args.seconds:g} --bursts {args.bursts}"
    if args.bursts > 0:
        command += " --latency-listeners " + " ".join(map(str, args.latency_listeners))
    loads = "load average (1, 5, 15 min) {:.2f} / {:.2f} / {:.2f}"
    notes = (
        f"\n\nMachine {loads.format(*load_before)} at the start and "
        f"{loads.format(*load_after)} at the end (2 cores; other engineers' work included). "
        + ("Failed runs: " + "; ".join(failures) + ". " if failures else "Every run passed. ")
        + "\n\nOne `parley serve` process (SQLite, in-process bus) pinned to core "
        f"{args.server_cpu}, the load client to core {args.load_cpu}, "
        "with one speaker on stage "
        "(an aiortc client sending a 1 kHz tone at real-time pace) and N listeners, each its "
        "own account, offering to receive only, "
        f"{args.concurrency} connecting at a time. The machine's 2 cores are shared by the "
        "server, the load client (the listeners, in one child process, plus the speaker in "
        "the bench process) and whatever else runs on the machine; the load client's CPU is "
        "shown, and so is the rest of the machine's busy time in the window (*other work*, as "
        "a fraction of one core, out of 200 %): when the machine is saturated the server is "
        "starved, and delivery falls below full rate whatever its own CPU time says. "
        "Listeners neither decrypt nor decode: their sockets count SRTP datagrams, and pass "
        f"one in {PASS_EVERY} to aiortc for the statistics of their RTCP receiver reports. "
        "A run fails when not every listener connects or one gets less than full rate. "
        "Server CPU is user + system time over a "
        f"{args.seconds:g} s window starting {args.settle:g} s after all are connected; "
        "listeners per core = N / that "
        f"fraction, which means something only for a row at full rate (≥ {FULL_RATE:.0%} of "
        f"{PACKETS_PER_SECOND:.0f} packets/s for every listener). "
        "Target (DESIGN.md): ≥ 2,000 listeners per core; issue 11: ≥ 1,000."
    )
    if latency:
        notes += (
            "\n\n**Audio added by the server (ingress to egress).** The speaker sends 40 ms of "
            "1 kHz every 300 ms; a probe listener in the same process keeps every packet it "
            "receives, decoded afterwards to find each burst's first packet. *Server added* is "
            "from the speaker's RTP packet carrying the burst's first frame being sent to the "
            "probe receiving the program packet carrying it; *from hand-off* starts earlier, "
            "when the frame left the speaker's track for aiortc's encoder. Loopback on one "
            "machine: the network adds about nothing, and nothing is subtracted. Neither counts "
            "Opus's look-ahead (6.5 ms per encode, inside the packet) nor a receiver's jitter "
            "buffer. The listeners are the child process of the table above. Target "
            "(DESIGN.md): ≤ 20 ms p99.\n\n" + latency
        )
    record("WebRTC listeners (bench/media.py)", command, table + notes)
    if failures:
        raise SystemExit("failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
