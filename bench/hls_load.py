"""The origin's load when listeners by the thousand play a space's HLS through nginx.

Debian's nginx runs deploy/nginx/parley.conf (the file operators are told to use), with only
the node's address, the port and the cache directory replaced, inside a minimal main config
that also logs each request nginx sent to the node. A space's host sings over WebRTC; N
simulated listeners in this process (asyncio + aiohttp, one connection each) play it as hls.js
does in low-latency mode: a blocking reload for the hinted part (`_HLS_msn`, `_HLS_part`), then
the part, again and again. Measured per N over a steady window: what the listeners got
(requests per second, errors), what reached the node (requests per second, from nginx's log),
and the CPU of this load client, nginx and the node. The node and nginx share core 0, the load
client has core 1 to itself; past what one core of Python can send, listeners poll less often
than hls.js would, which the table shows (requests per listener per second).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp

from bench.common import free_port, raise_fd_limit, record, server_process
from bench.hls import HINT, PART, live_space

LOAD_NOTE = re.sub(
    r"\s+",
    " ",
    """One live space, LL-HLS (2 s segments, 0.512 s parts), nginx 1.22 (Debian) running
    deploy/nginx/parley.conf. Each simulated listener plays as hls.js does in low-latency mode
    (blocking reload for the hinted part and the part at once, about 4 requests a second when
    nothing holds it up). "Reaching the node" counts the requests nginx sent to the node, from
    its log. The listeners share at most 8,000 connections (the machine's limit is 20,000 open
    files per process, nginx's included). The node and nginx share core 0, the load client has
    core 1, one Python process:
    past a thousand listeners it cannot send what hls.js would, and each listener's rate falls
    (its CPU column); nginx's cache lock, which wakes waiting requests every 500 ms, also slows
    each listener's next part. The machine was shared with other engineers' test runs (load
    average 10-13 on 2 cores).
    """,
).strip()

CONNECTIONS = 8000
SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "parley.conf"
MAIN = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 19000; multi_accept on; }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    # bench only: one line per request that went to the node
    map $upstream_addr $to_origin {{ "" 0; default 1; }}
    log_format origin '$msec $upstream_cache_status $uri';
    access_log {prefix}/origin.log origin if=$to_origin;
    keepalive_requests 100000;
    include {prefix}/parley.conf;
}}
"""


def site_config(node_port: int, listen: int, cache: Path) -> str:
    """The shipped file with its three `bench:` lines pointed at this run."""
    text = SITE.read_text()
    text = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{node_port};", text)
    # A deep accept queue: ten thousand listeners connect within seconds.
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{listen} backlog=4096;", text)
    return text.replace("/var/cache/nginx/parley", str(cache))


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    statuses: list[int] = field(default_factory=list)


async def fetch(http: aiohttp.ClientSession, url: str, tally: Tally, **kw: object) -> str:
    async with http.get(url, **kw) as r:  # type: ignore[arg-type]
        body = await r.read()
    tally.requests += 1
    if r.status != 200:
        tally.errors += 1
        tally.statuses.append(r.status)
    return body.decode("latin-1")


async def listener(
    http: aiohttp.ClientSession, base: str, tally: Tally, until: float, delay: float
) -> None:
    """As hls.js in low-latency mode: the blocking reload for the hinted part and the hinted
    part itself at once, then any listed part it has not fetched yet (after falling behind).
    Starts after `delay` (arrivals spread over the warm-up)."""
    await asyncio.sleep(delay)
    fetched: set[str] = set()
    text = ""
    while time.time() < until:
        try:
            hint = HINT.search(text)
            if hint is None:
                text = await fetch(http, base + "live.m3u8", tally)
                fetched.update(PART.findall(text))  # a player starts at the live edge
                await asyncio.sleep(0.5 if HINT.search(text) is None else 0)
                continue
            name = f"seg-{hint[1]}.{hint[2]}.ts"
            params = {"_HLS_msn": hint[1], "_HLS_part": hint[2]}
            text, _ = await asyncio.gather(
                fetch(http, base + "live.m3u8", tally, params=params),
                fetch(http, base + name, tally),
            )
            fetched.add(name)
            for missing in [n for n in PART.findall(text) if n not in fetched]:
                await fetch(http, base + missing, tally)
                fetched.add(missing)
        except (aiohttp.ClientError, TimeoutError):
            tally.errors += 1
            text = ""
            await asyncio.sleep(0.5)


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def origin_requests(log: Path, start: float, end: float) -> int:
    if not log.exists():
        return 0
    stamps = (float(line.split()[0]) for line in log.read_text().splitlines() if line)
    return sum(1 for s in stamps if start <= s < end)


async def one_load(base: str, n: int, seconds: float, log: Path, pids: dict[str, int]) -> str:
    tally = Tally()
    warmup = min(10.0, 2 + n / 1000)
    # Connections shared by all listeners: each would hold two at once (playlist and part), and
    # this machine allows 20,000 open files per process (nginx included), so past 4,000
    # listeners requests queue in the client for a free one.
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        until = time.time() + warmup + seconds
        tasks = [
            asyncio.create_task(listener(http, base, tally, until, warmup * 0.8 * i / n))
            for i in range(n)
        ]
        await asyncio.sleep(warmup)
        t0, r0, e0 = time.time(), tally.requests, tally.errors
        cpu0 = {name: cpu_of(pid) for name, pid in pids.items()}
        own0 = own_cpu()
        await asyncio.sleep(seconds)
        wall = time.time() - t0
        served, errors = tally.requests - r0, tally.errors - e0
        cpu = {name: 100 * (cpu_of(pid) - cpu0[name]) / wall for name, pid in pids.items()}
        own = 100 * (own_cpu() - own0) / wall
        origin = origin_requests(log, t0, t0 + wall)
        await asyncio.gather(*tasks, return_exceptions=True)
    row = (
        f"| {n:,} | {served / wall:,.0f} | {served / wall / n:.2f} | {errors} "
        f"| {origin / wall:.1f} | {own:.0f} % | {cpu['nginx']:.0f} % | {cpu['node']:.0f} % |"
    )
    print(row, sorted(set(tally.statuses))[:5], flush=True)
    return row


@dataclass
class Proxy:
    port: int
    log: Path
    worker: int  # nginx's worker process


@contextmanager
def nginx_in_front(node_port: int) -> Iterator[Proxy]:
    """Debian's nginx on core 0 running the shipped site file in front of the node."""
    with tempfile.TemporaryDirectory(prefix="parley-nginx-") as folder:
        prefix = Path(folder)
        prefix.chmod(0o755)
        for sub in ("cache", "body", "proxy"):
            (prefix / sub).mkdir()
            # nginx's workers drop root for its unprivileged user, who must write these.
            (prefix / sub).chmod(0o777)
        port = free_port()
        (prefix / "parley.conf").write_text(site_config(node_port, port, prefix / "cache"))
        (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix))
        nginx = subprocess.Popen(
            ["taskset", "-c", "0", shutil.which("nginx") or "/usr/sbin/nginx",
             "-c", str(prefix / "nginx.conf"), "-p", str(prefix)],
        )  # fmt: skip
        try:
            workers: list[str] = []
            deadline = time.monotonic() + 10
            while not workers and time.monotonic() < deadline:
                time.sleep(0.1)
                found = subprocess.run(["pgrep", "-P", str(nginx.pid)], capture_output=True)
                workers = found.stdout.decode().split()
            if not workers:
                raise RuntimeError("nginx did not start: " + (prefix / "error.log").read_text())
            yield Proxy(port, prefix / "origin.log", int(workers[0]))
        finally:
            nginx.terminate()
            nginx.wait(10)


def _sing(api: str, out: Connection) -> None:
    """The speaker, in a process of its own: the load must not starve its WebRTC connection."""

    async def sing() -> None:
        async with aiohttp.ClientSession() as http:
            space_id, _pc, _ = await live_space(http, api)
        out.send(space_id)
        await asyncio.Event().wait()  # until terminated

    asyncio.run(sing())


@contextmanager
def speaker(api: str) -> Iterator[str]:
    """A live space whose host sings, from a child process; its id."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=_sing, args=(api, send))
    child.start()
    try:
        if not receive.poll(30):
            raise RuntimeError("the speaker did not start")
        yield str(receive.recv())
    finally:
        child.terminate()
        child.join(10)


async def run(
    base: str, node_pid: int, proxy: Proxy, listeners: list[int], seconds: float
) -> list[str]:
    pids = {"nginx": proxy.worker, "node": node_pid}
    return [await one_load(base, n, seconds, proxy.log, pids) for n in listeners]


def load_section(listeners: list[int], seconds: float) -> None:
    raise_fd_limit()
    env = {"PARLEY_HLS_PART_SECONDS": "0.5", "PARLEY_HLS_SEGMENT_SECONDS": "2"}
    with (
        server_process(cpus="0", **env) as server,
        nginx_in_front(int(server.base.rsplit(":", 1)[1])) as proxy,
        speaker(f"{server.base}/api/v1") as space_id,
    ):
        time.sleep(5)  # the first segments
        base = f"http://127.0.0.1:{proxy.port}/api/v1/spaces/{space_id}/hls/"
        rows = asyncio.run(run(base, server.pid, proxy, listeners, seconds))
    table = "\n".join(
        [
            "| listeners | requests/s served by nginx | per listener | errors "
            "| requests/s reaching the node | load client CPU | nginx CPU | node CPU |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    record("Live HLS: origin load behind nginx", "python -m bench.hls", table + "\n\n" + LOAD_NOTE)
