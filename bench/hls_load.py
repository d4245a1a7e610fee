"""The origin's load when listeners by the thousand play a space's live HLS through nginx.

Debian's nginx runs deploy/nginx/parley.conf (the file operators are told to use), with only
the node's address, the port and the cache directory replaced, inside a minimal main config
that also logs each request nginx sent to the node. A space's host sings over WebRTC; N
simulated listeners play it as hls.js does (bench/hls_listeners.py), spread over several
processes: in low-latency mode (LL-HLS, 0.512 s parts, the node's default), or, with
`--segments`, as standard HLS (the node's parts turned off, PARLEY_HLS_PART_SECONDS=0: 2 s
segments, about one request a second per listener instead of four). The node and nginx share
core 0, the load processes have core 1.

Per N, over a steady window: what the listeners got (requests per second, errors, parts or
segments they skipped), how late each reached them, what reached the node (from nginx's log,
by kind), and the CPU of the load processes, nginx and the node. "How late": a probe on core 0
follows the playlist at the node itself, bypassing nginx (blocking reloads with parts, a reload
every 0.1 s without), and notes when each part or segment is first listed; a listener's
lateness is when it had the bytes minus that. The probe's requests are not in the node's count
(they do not pass nginx).

A row is a measurement only if the listeners kept up, as a player would: no errors, nothing
skipped, and
- LL-HLS: each listener's request rate at least 90 % of what hls.js sends (two requests per
  part), part lateness p99 within 1 s (a player PART-HOLD-BACK, 1.536 s, behind the live edge
  stalls once a part is later than that minus its own length);
- standard HLS: each reload sent within 0.5 s (p99) of when hls.js's schedule had it due (the
  load process kept time), segment lateness p99 within 4 s (a player three target durations,
  6 s, behind the live edge stalls once a segment is later than that minus its own 2 s).
Otherwise the row says why it failed, and what it shows is the load client's limit, not the
origin's.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from bench.common import percentile, raise_fd_limit, record, server_process
from bench.hls import live_space
from bench.hls_listeners import HINT, LISTED, SEGMENT, Tally, Target, run
from bench.nginx import NginxOptions, running, single_node_site

# Each listener holds two connections, each an open file at both ends; the machine allows
# 20,000 per process: nginx gets two workers (both on core 0), the load as many processes as
# it takes (at most 2,500 listeners each, also spreading source ports over 127.0.0.x).
PER_PROCESS = 2500
NGINX = NginxOptions(
    workers=2,
    connections=19000,
    main="worker_rlimit_nofile 20000;",
    events="multi_accept on;",
    http=r"""
    # bench only: one line per request that went to the node
    map $upstream_addr $to_origin { "" 0; default 1; }
    log_format origin '$msec $upstream_cache_status $status $request_uri';
    access_log origin.log origin if=$to_origin;
    # and one per part answered from the cache after waiting for another's request (the lock)
    map "$upstream_cache_status:$request_time:$uri" $waited {
        "~^HIT:0\.0" 0; "~^HIT:.*\.ts$" 1; default 0;
    }
    log_format waited '$msec $request_time';
    access_log waited.log waited if=$waited;
    keepalive_requests 1000000;
""",
)


@dataclass
class Proxy:
    port: int
    log: Path
    workers: list[int]


@contextmanager
def nginx_in_front(node_port: int) -> Iterator[Proxy]:
    """Debian's nginx on core 0 running the shipped site file in front of the node."""

    def site(port: int, cache: Path) -> str:
        # A deep accept queue (listeners connect by the thousand), shared by the two workers.
        return single_node_site(node_port, f"127.0.0.1:{port} backlog=8192 reuseport", cache)

    with running(site, NGINX, cpus="0") as nginx:
        yield Proxy(nginx.port, nginx.prefix / "origin.log", nginx.workers())


def _sing_and_probe(api: str, segments: bool, out: Connection) -> None:
    """The speaker and the probe, in a process of their own on core 0: the load must starve
    neither the speaker's WebRTC nor the probe's clock. Sends the space's id, then, when asked,
    when each part (segment: key (number, -1)) was first listed at the node."""
    os.sched_setaffinity(0, {0})
    listed: dict[tuple[int, int], float] = {}

    async def probe(http: aiohttp.ClientSession, base: str) -> None:
        params: dict[str, str] = {}
        while True:
            async with http.get(base + "live.m3u8", params=params) as r:
                text = await r.read()
            now = time.time()
            if segments:
                for _, _, n in SEGMENT.findall(text):
                    listed.setdefault((int(n), -1), now)
                await asyncio.sleep(0.1)
                continue
            for m, p in LISTED.findall(text):
                listed.setdefault((int(m), int(p)), now)
            hint = HINT.search(text)
            params = {"_HLS_msn": hint[1].decode(), "_HLS_part": hint[2].decode()} if hint else {}

    async def main() -> None:
        async with aiohttp.ClientSession() as http:
            space_id, _pc, _ = await live_space(http, api)
            out.send(space_id)
            task = asyncio.create_task(probe(http, f"{api}/spaces/{space_id}/hls/"))
            loop = asyncio.get_running_loop()
            while await loop.run_in_executor(None, out.recv):
                out.send(dict(listed))
            task.cancel()

    asyncio.run(main())


@dataclass
class Speaker:
    space_id: str
    pipe: Connection

    def listed(self) -> dict[tuple[int, int], float]:
        self.pipe.send(True)
        found: dict[tuple[int, int], float] = self.pipe.recv()
        return found


@contextmanager
def speaker(api: str, segments: bool) -> Iterator[Speaker]:
    ours, theirs = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=_sing_and_probe, args=(api, segments, theirs)
    )
    child.start()
    try:
        if not ours.poll(30):
            raise RuntimeError("the speaker did not start")
        yield Speaker(str(ours.recv()), ours)
    finally:
        child.terminate()
        child.join(10)


def cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        print(f"process {pid} is gone", flush=True)
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lock_waits(log: Path, start: float, end: float) -> list[float]:
    """How long each part answered from the cache after 100 ms or more waited."""
    if not log.exists():
        return []
    found = (line.split() for line in log.read_text().splitlines() if line)
    return [float(waited) for stamp, waited in found if start <= float(stamp) < end]


def origin_requests(log: Path, start: float, end: float) -> Counter[str]:
    """Requests nginx sent to the node in the window, by kind and cache status."""
    kinds: Counter[str] = Counter()
    if not log.exists():
        return kinds
    for line in log.read_text().splitlines():
        stamp, cache, status, uri = line.split(" ", 3)
        if not start <= float(stamp) < end:
            continue
        kind = "reload" if "_HLS_msn" in uri else "playlist" if ".m3u8" in uri else "media"
        kinds[kind] += 1
        kinds[f"{kind} {cache}"] += 1
        if status != "200":
            kinds[f"status {status}"] += 1
    return kinds


def load(
    target: Target, n: int, seconds: float, pids: dict[str, int], segments: bool
) -> tuple[list[Tally], float, float, float, dict[str, float]]:
    """`n` listeners over ceil(n / PER_PROCESS) processes on core 1: their tallies, the CPU
    seconds they used in the window, the window (start, end), and the CPU (percent of a core)
    of the processes `pids` in the window."""
    processes = max(1, math.ceil(n / PER_PROCESS))
    ramp = 4 + n / 1000  # connecting 2n connections and the first playlists
    start = time.time() + ramp + 2
    end = start + seconds
    spawn = multiprocessing.get_context("spawn")
    pipes, children = [], []
    for k in range(processes):
        share = n // processes + (1 if k < n % processes else 0)
        targets = [
            Target(target.host, target.port, target.path, f"127.0.{k + 1}.{j + 1}")
            for j in range(4)
        ]
        ours, theirs = spawn.Pipe(duplex=False)
        child = spawn.Process(target=run, args=(targets, share, start, end, segments, theirs))
        child.start()
        pipes.append(ours)
        children.append(child)
    time.sleep(max(0.0, start - time.time()))
    cpu0 = {name: cpu_of(pid) for name, pid in pids.items()}
    time.sleep(max(0.0, end - time.time()))
    cpu = {name: 100 * (cpu_of(pid) - cpu0[name]) / seconds for name, pid in pids.items()}
    results = [pipe.recv() for pipe in pipes]
    for child in children:
        child.join(30)
    return [t for t, _ in results], sum(c for _, c in results), start, end, cpu


@dataclass
class Row:
    text: str
    ok: bool


@dataclass(frozen=True)
class Mode:
    """LL-HLS (parts) or standard HLS (segments only): what the node is told, how listeners
    play, how a row is judged and shown."""

    segments: bool

    @property
    def env(self) -> dict[str, str]:
        parts = "0" if self.segments else "0.5"
        return {"PARLEY_HLS_PART_SECONDS": parts, "PARLEY_HLS_SEGMENT_SECONDS": "2"}

    @property
    def section(self) -> str:
        if self.segments:
            return "Live HLS: origin load behind nginx, standard HLS (2 s segments, no parts)"
        return "Live HLS: origin load behind nginx"

    @property
    def command(self) -> str:
        return "python -m bench.hls --load-only" + (" --segments" if self.segments else "")

    @property
    def header(self) -> str:
        if self.segments:
            return (
                "| listeners | load processes | requests/s served | per listener "
                "| errors | segment lateness p50 / p99 | reloads late on hls.js's schedule "
                "(p99) | requests/s at the node (playlists / segments) | load CPU (core 1) "
                "| nginx CPU | node CPU | verdict |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|"
            )
        return (
            "| listeners | load processes | requests/s served | per listener, of hls.js's "
            "| errors | part lateness p50 / p99 | parts that waited on nginx's lock (share, p50) "
            "| requests/s at the node (reloads / parts / playlists) | load CPU (core 1) "
            "| nginx CPU | node CPU | verdict |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|"
        )


def one_load(
    mode: Mode,
    target: Target,
    n: int,
    seconds: float,
    proxy: Proxy | None,
    node_pid: int,
    probe: Speaker,
) -> Row:
    workers = proxy.workers if proxy else []
    pids = {"node": node_pid} | {f"nginx{i}": w for i, w in enumerate(workers)}
    tallies, load_cpu, start, end, cpu = load(target, n, seconds, pids, mode.segments)
    wall = end - start
    listed = probe.listed()
    listed_per_second = sum(1 for t in listed.values() if start <= t < end) / wall
    requests = sum(t.requests for t in tallies)
    errors = sum(t.errors for t in tallies)
    statuses = sum((t.statuses for t in tallies), Counter[int]())
    gaps, restarts = sum(t.gaps for t in tallies), sum(t.restarts for t in tallies)
    late = [
        at - listed[key]
        for t in tallies
        for key, times in t.arrived.items()
        if key in listed
        for at in times
    ]
    lag = [x for t in tallies for x in t.lag]
    per_listener = requests / wall / n
    origin = origin_requests(proxy.log, start, end) if proxy else Counter[str]()
    p50, p99 = percentile(late, 50), percentile(late, 99)
    why = []
    if errors or restarts:
        why.append(f"{errors} errors {dict(statuses)}, {restarts} restarts")
    if gaps:
        why.append(f"{gaps} {'segments' if mode.segments else 'parts'} skipped")
    if mode.segments:
        lag99 = percentile(lag, 99)
        if not lag99 <= 0.5:
            why.append(f"reloads {lag99:.2f} s late (p99)")
        if not p99 <= 4.0:
            why.append(f"segment lateness p99 {p99:.2f} s")
    else:
        expected = 2 * listed_per_second
        if per_listener < 0.9 * expected:
            why.append(f"listeners at {per_listener / expected:.0%} of hls.js's rate")
        if not p99 <= 1.0:
            why.append(f"part lateness p99 {p99:.2f} s")
    if proxy:
        total = origin["reload"] + origin["playlist"] + origin["media"]
        at_node = f"{total / wall:.1f} ("
        if not mode.segments:
            at_node += f"{origin['reload'] / wall:.1f} / "
        at_node += (
            f"{origin['media'] / wall:.1f} / {origin['playlist'] / wall:.1f})"
            if not mode.segments
            else f"{origin['playlist'] / wall:.1f} / {origin['media'] / wall:.1f})"
        )
    else:
        at_node = f"{requests / wall:,.0f} (all)"
    nginx = sum(v for k, v in cpu.items() if k.startswith("nginx"))
    cells = [
        f"{n:,}{'' if proxy else ' (no nginx)'}",
        f"{math.ceil(n / PER_PROCESS)}",
        f"{requests / wall:,.0f}",
    ]
    if mode.segments:
        cells += [
            f"{per_listener:.2f}",
            f"{errors + gaps}",
            f"{p50:.2f} / {p99:.2f} s",
            f"{percentile(lag, 99):.2f} s",
        ]
    else:
        waits = lock_waits(proxy.log.with_name("waited.log"), start, end) if proxy else []
        cells += [
            f"{per_listener:.2f} of {2 * listed_per_second:.2f}",
            f"{errors + gaps}",
            f"{p50:.2f} / {p99:.2f} s",
            f"{100 * len(waits) / max(1, requests / 2):.1f} %, "
            f"{1000 * percentile(waits, 50):.0f} ms",
        ]
    cells += [
        at_node,
        f"{100 * load_cpu / wall:.0f} %",
        f"{nginx:.0f} %",
        f"{cpu['node']:.0f} %",
        "ok" if not why else "FAILED: " + "; ".join(why),
    ]
    text = "| " + " | ".join(cells) + " |"
    print(text, dict(origin), [t.skipped[:8] for t in tallies], flush=True)
    return Row(text, not why)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


LL_NOTE = """One live space, LL-HLS (2 s segments, 0.512 s parts), Debian's nginx 1.22 (two
workers) running deploy/nginx/parley.conf; the node and nginx on core 0, the load processes
(bench/hls_listeners.py: hls.js 1.x's requests, two keep-alive connections per listener) on
core 1. hls.js's rate: two requests per part (the blocking reload, the part), parts counted by
a probe at the node. Part lateness: when a listener had a part's bytes, minus when the probe saw
the node list it. Parts that waited: part requests nginx answered from its cache 100 ms or more
after they arrived (another's request for it was at the node), of all part requests. Requests
at the node: from nginx's log. A row is a measurement only if its listeners kept up (verdict
ok): no errors, no part skipped, at least 90 % of hls.js's rate, lateness p99 within 1 s. Load
CPU is the load processes' own, as a share of core 1."""

SEGMENTS_NOTE = """One live space, standard HLS (PARLEY_HLS_PART_SECONDS=0: 2 s segments, no
parts, no blocking reloads), Debian's nginx 1.22 (two workers) running deploy/nginx/parley.conf;
the node and nginx on core 0, the load processes (bench/hls_listeners.py: hls.js 1.x without
low-latency mode, two keep-alive connections per listener) on core 1. hls.js reloads the
playlist every target duration (the last segment's duration when shorter), half of it when
nothing new was listed, on a schedule kept from when each reload was due, and fetches each new
segment. Segment lateness: when a listener had a segment's bytes, minus when a probe polling
the node every 0.1 s saw it listed; nginx keeps the playlist one to two seconds (`max-age=1`,
whole seconds) and a listener reloads every two, so up to about 4 s is the protocol's, not the
load's. Reloads late: when each reload went out, minus when hls.js's schedule had it due (the
load process keeping time). Requests at the node: from nginx's log. A row is a measurement only
if its listeners kept up (verdict ok): no errors, no segment skipped, reloads late by 0.5 s at
most (p99), segment lateness p99 within 4 s. Load CPU is the load processes' own, as a share of
core 1."""


def load_section(
    listeners: list[int], seconds: float, direct: int = 0, segments: bool = False
) -> None:
    mode = Mode(segments)
    raise_fd_limit()
    before = load_average()
    rows: list[Row] = []
    with (
        server_process(cpus="0", **mode.env) as server,
        nginx_in_front(int(server.base.rsplit(":", 1)[1])) as proxy,
        speaker(f"{server.base}/api/v1", segments) as probe,
    ):
        time.sleep(5)  # the first segments
        path = f"/api/v1/spaces/{probe.space_id}/hls/"
        node_port = int(server.base.rsplit(":", 1)[1])
        if direct:
            node = Target("127.0.0.1", node_port, path, "127.0.0.1")
            rows.append(one_load(mode, node, direct, seconds, None, server.pid, probe))
        through = Target("127.0.0.1", proxy.port, path, "127.0.0.1")
        for n in listeners:
            rows.append(one_load(mode, through, n, seconds, proxy, server.pid, probe))
            time.sleep(3)  # the last listeners' connections close
    table = "\n".join([mode.header, *(row.text for row in rows)])
    note = " ".join((SEGMENTS_NOTE if segments else LL_NOTE).split()) + (
        f" {seconds:.0f} s window per row. Load average (1 min) {before} before the runs,"
        f" {load_average()} after (other engineers' tests share the machine)."
    )
    record(mode.section, mode.command, table + "\n\n" + note)
