"""Debian's nginx running the shipped deploy/nginx/parley.conf in front of a test server (its
`bench:` lines pointed at the server, a port and a cache directory), with a log of every
request nginx sent to the node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.nginx import NginxOptions, running, single_node_site

# Test only: one line per request that went to the node.
ORIGIN_LOG = """
    map $upstream_addr $to_origin { "" 0; default 1; }
    log_format origin '$upstream_cache_status $status $request_uri $upstream_addr';
    access_log origin.log origin if=$to_origin;
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
def nginx_in_front(
    node_port: int, connections: int = 1024, socket_timeout: str | None = None
) -> Iterator[Edge]:
    """One worker holding up to `connections` connections (clients and the node's); event
    sockets closed after `socket_timeout` with nothing from the node, if given."""

    def site(port: int, cache: Path) -> str:
        listen = f"127.0.0.1:{port} backlog=4096"
        return single_node_site(node_port, listen, cache, socket_timeout)

    options = NginxOptions(http=ORIGIN_LOG, connections=connections)
    with running(site, options) as nginx:
        yield Edge(nginx.base_url, nginx.prefix / "origin.log")
