"""Debian's nginx in the foreground, from a temporary prefix, running one of the shipped site
files (deploy/nginx/) with only its marked lines rewritten for the run: what the benchmarks and
the tests put in front of nodes, so that both exercise the configuration operators are given."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import free_port

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "nginx"
NGINX = "/usr/sbin/nginx"
# The harness's own main file: a shipped site goes in its `http {}` block, as on Debian.
MAIN = """
daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{main}
events {{ worker_connections {connections}; {events} }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
{http}
    include {prefix}/site.conf;
}}
"""


@dataclass(frozen=True)
class NginxOptions:
    """What a run adds to the main file: `http` lines (logs, headers), the number of workers
    and their connections, and what goes at the main and `events {}` levels."""

    http: str = ""
    workers: int = 1
    connections: int = 1024
    main: str = ""
    events: str = ""


def single_node_site(
    node_port: int, listen: str, cache: Path, socket_timeout: str | None = None
) -> str:
    """deploy/nginx/parley.conf with its `bench:` lines (the node, `listen`, the cache, and the
    event sockets' read timeout if given) set."""
    text = (DEPLOY / "parley.conf").read_text()
    if socket_timeout is not None:
        text, found = re.subn(
            r"proxy_read_timeout \S+;(  # bench: sockets)",
            rf"proxy_read_timeout {socket_timeout};\1",
            text,
        )
        assert found == 1, "deploy/nginx/parley.conf has no line marked 'bench: sockets'"
    text = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{node_port};", text)
    text = text.replace("listen 80;", f"listen {listen};")
    return text.replace("/var/cache/nginx/parley", str(cache))


def prepare(folder: Path, site: str, options: NginxOptions) -> Path:
    """Lay out a prefix in `folder` for `site`; returns the main file's path."""
    folder.chmod(0o755)
    for sub in ("cache", "body", "proxy"):
        (folder / sub).mkdir(exist_ok=True)
        # nginx's workers drop root for its unprivileged user, who must write these.
        (folder / sub).chmod(0o777)
    (folder / "site.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        MAIN.format(
            prefix=folder,
            workers=options.workers,
            connections=options.connections,
            main=options.main,
            events=options.events,
            http=options.http,
        )
    )
    return main


def check(site: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` of `site` inside the harness's main file."""
    main = prepare(folder, site, NginxOptions())
    return subprocess.run(
        [binary(), "-t", "-c", str(main), "-p", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def binary() -> str:
    return shutil.which("nginx") or NGINX


@dataclass
class Nginx:
    prefix: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def workers(self) -> list[int]:
        """The worker processes (not the cache manager and loader; the latter exits)."""
        found = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True)
        workers = []
        for pid in found.stdout.decode().split():
            with contextlib.suppress(OSError):
                if b"worker process" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    workers.append(int(pid))
        return workers


@contextlib.contextmanager
def running(
    site: Callable[[int, Path], str],
    options: NginxOptions | None = None,
    *,
    cpus: str | None = None,
) -> Iterator[Nginx]:
    """nginx serving `site(port, cache_dir)`, pinned to `cpus` when given; yielded once it
    accepts connections and all its workers are up."""
    options = options or NginxOptions()
    with tempfile.TemporaryDirectory(prefix="parley-nginx-") as folder:
        prefix = Path(folder)
        port = free_port()
        main = prepare(prefix, site(port, prefix / "cache"), options)
        pinned = ["taskset", "-c", cpus] if cpus else []
        process = subprocess.Popen([*pinned, binary(), "-c", str(main), "-p", str(prefix)])
        nginx = Nginx(prefix, port, process)
        try:
            deadline = time.monotonic() + 10
            while not (_accepts(port) and len(nginx.workers()) >= options.workers):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nginx did not start: " + nginx.error_log())
                time.sleep(0.05)
            yield nginx
        finally:
            process.terminate()
            process.wait(10)


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False
