"""Shared pieces of the benchmarks: a real server process, figures, and the results file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import httpx

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "benchmark password"


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """An empty database of its own for one run (the server migrates it), dropped after."""
    import asyncpg

    name = f"parley_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def scratch_database(postgres: bool) -> AsyncIterator[str]:
    """A database URL for one in-process run: a fresh PostgreSQL database, or SQLite in a
    temporary directory; gone after."""
    if postgres:
        async with fresh_postgres_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite+aiosqlite:///{directory}/bench.sqlite"


async def sign_up(
    http: aiohttp.ClientSession, api: str, handles: Sequence[str], limit: int = 1
) -> list[str]:
    """Bearer tokens of new accounts with these handles (each its own display name), `limit`
    signing up at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(handle: str) -> str:
        body = {"handle": handle, "password": PASSWORD, "display_name": handle}
        async with gate:
            async with http.post(f"{api}/accounts", json=body) as r:
                r.raise_for_status()
            async with http.post(f"{api}/sessions", json=body) as r:
                r.raise_for_status()
                return str((await r.json())["token"])

    return await asyncio.gather(*(one(h) for h in handles))


# The services a node leans on, which run beside it on this machine (elsewhere in production).
BACKING_SERVICES = frozenset({"postgres", "redis-server"})


def processes_cpu_seconds(names: frozenset[str] = BACKING_SERVICES) -> float:
    """User + system CPU time so far of the running processes with these names, with that of
    their children that ended (PostgreSQL's backends), so a difference spans a whole run."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                name, fields = _process_stat(entry.name)
                if name in names:
                    ticks += sum(int(f) for f in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has been busy (all cores, every process), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait; no guests twice
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_stat(pid: int | str) -> tuple[str, list[str]]:
    """A process's name and the fields after it in /proc/<pid>/stat (from utime, the 14th, at
    index 11); the name sits in parentheses and may hold spaces and parentheses itself."""
    text = Path(f"/proc/{pid}/stat").read_text()
    name, after = text[text.index("(") + 1 :].rsplit(")", 1)
    return name, after.split()


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, base: str, pid: int, log_path: Path) -> None:
        self.base = base
        self.pid = pid
        # What the server printed (stdout and stderr), until the process is stopped.
        self.log_path = log_path

    def pids(self) -> list[int]:
        """The server's process and its descendants (the workers of `serve --workers N`)."""
        found, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    todo.extend(int(c) for c in task.read_text().split())
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time the server (all its processes) has used so far."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                _name, fields = _process_stat(pid)
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def rss_mib(self) -> float:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        return total


@contextmanager
def server_process(
    cpus: str | None = None, args: Sequence[str] = (), **env: str
) -> Iterator[ServerProcess]:
    """`parley serve` in a process of its own, on a free port and a fresh data dir; with
    `cpus` (e.g. "0"), pinned to those cores with taskset, away from the load; `args` are
    more arguments of `serve` (`--workers 2`)."""
    with server_processes(1, cpus, args, **env) as (server,):
        yield server


@contextmanager
def server_processes(
    count: int, cpus: str | None = None, args: Sequence[str] = (), **env: str
) -> Iterator[list[ServerProcess]]:
    """`count` servers as `server_process` starts one, all launched before any is waited for:
    a node's start-up is mostly importing, which the others do meanwhile on the other core."""
    raise_fd_limit()
    with contextlib.ExitStack() as stack:
        launched = [stack.enter_context(_launched(cpus, args, env)) for _ in range(count)]
        # A minute: on a machine shared with others, start-up alone has taken half of that.
        deadline = time.monotonic() + 60
        yield [_wait_until_healthy(server, proc, deadline) for server, proc in launched]


@contextmanager
def _launched(
    cpus: str | None, args: Sequence[str], env: dict[str, str]
) -> Iterator[tuple[ServerProcess, subprocess.Popen[bytes]]]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        environment = {
            **os.environ,
            "PARLEY_DATA_DIR": data,
            "PARLEY_PORT": str(port),
            # Password hashing is not what these benchmarks measure.
            "PARLEY_ARGON2_TIME_COST": "1",
            "PARLEY_ARGON2_MEMORY_KIB": "64",
            # A log line per request would measure the terminal, not the server.
            "PARLEY_LOG_LEVEL": "warning",
            # The load comes from one address, thousands of people at once; bench/limits.py
            # turns the limits back on to measure them.
            "PARLEY_RATE_LIMITS": "off",
            # Recognizing speech costs a core's quarter per speaker, in worker processes that
            # inherit the server's core: only bench/captions.py measures it, on its own.
            "PARLEY_CAPTIONS": "off",
            # The load sets its rooms up through the API, joining hundreds at once and
            # connecting them after, and most of its hosts hold no socket: the wait for a first
            # connection would take them out mid-run. bench/joins.py, whose sockets follow their
            # joins as a page's do, measures with the default.
            "PARLEY_CONNECT_WAIT_SECONDS": "3600",
            **env,
        }
        log_path = Path(data) / "server.log"
        with open(log_path, "w+b") as log:
            pin = ["taskset", "-c", cpus] if cpus is not None else []
            proc = subprocess.Popen(
                [*pin, sys.executable, "-m", "parley.cli", "serve", *args],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                yield ServerProcess(f"http://127.0.0.1:{port}", proc.pid, log_path), proc
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_until_healthy(
    server: ServerProcess, proc: subprocess.Popen[bytes], deadline: float
) -> ServerProcess:
    while True:
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            said = server.log_path.read_bytes().decode(errors="replace")[-2000:]
            raise RuntimeError(f"server did not start: {said}")
        time.sleep(0.1)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    """The processor as /proc/cpuinfo names it, with its family and model numbers: under this
    project's hypervisor every host is an "AMD EPYC" or an "Intel Xeon", and hosts a session
    apart differ by half in speed (docs/benchmarks.md)."""
    model = platform.processor() or platform.machine()
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if not key.strip():
                break  # the first processor's fields end at its blank line
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    model = fields.get("model name", model)
    if "cpu family" in fields and "model" in fields:
        model += f" (family {fields['cpu family']}, model {fields['model']})"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(section: str, command: str, table: str) -> None:
    """Replace (or add) one benchmark's section in docs/benchmarks.md; with
    PARLEY_BENCH_NO_RECORD=1 (`make bench-smoke`'s tiny runs) only say it would."""
    if os.environ.get("PARLEY_BENCH_NO_RECORD") == "1":
        print(f"(not recorded: {section})")
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    header = f"## {section}"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{header}\n\nMachine: {machine()}. Date: {stamp}. Command: `{command}`.\n\n{table}\n"
    if header in text:
        start = text.index(header)
        end = text.find("\n## ", start + len(header))
        text = text[:start] + block + ("\n" + text[end + 1 :] if end != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)
