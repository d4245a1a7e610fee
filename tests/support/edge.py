"""Debian's nginx running the shipped deploy/nginx/parley.conf in front of a test server, with
the node's address, the port and the cache directory replaced (the three lines marked `bench:`),
and a log of every request nginx sent to the node."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "parley.conf"
MAIN = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    map $upstream_addr $to_origin {{ "" 0; default 1; }}
    log_format origin '$upstream_cache_status $status $request_uri $upstream_addr';
    access_log {prefix}/origin.log origin if=$to_origin;
    include {prefix}/parley.conf;
}}
"""


@dataclass
class Edge:
    base_url: str
    log: Path

    def origin_requests(self) -> list[str]:
        """`$request_uri` of each request nginx sent to the node so far, in order."""
        if not self.log.exists():
            return []
        return [line.split()[2] for line in self.log.read_text().splitlines() if line]


@contextmanager
def nginx_in_front(node_port: int) -> Iterator[Edge]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory(prefix="parley-edge-") as folder:
        prefix = Path(folder)
        prefix.chmod(0o755)
        for sub in ("cache", "body", "proxy"):
            (prefix / sub).mkdir()
            (prefix / sub).chmod(0o777)  # nginx's workers drop root for its own user
        port = free_port()
        site = SITE.read_text()
        site = re.sub(r"server 127\.0\.0\.1:\d+;", f"server 127.0.0.1:{node_port};", site)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
        site = site.replace("/var/cache/nginx/parley", str(prefix / "cache"))
        (prefix / "parley.conf").write_text(site)
        (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix))
        nginx = subprocess.Popen(
            [binary, "-c", str(prefix / "nginx.conf"), "-p", str(prefix)],
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 10
            while not (prefix / "nginx.pid").exists():
                if nginx.poll() is not None or time.monotonic() > deadline:
                    errors = nginx.stderr.read().decode() if nginx.stderr else ""
                    raise RuntimeError(f"nginx did not start: {errors}")
                time.sleep(0.05)
            yield Edge(f"http://127.0.0.1:{port}", prefix / "origin.log")
        finally:
            nginx.terminate()
            nginx.wait(10)
