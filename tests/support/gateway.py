"""Debian's nginx in front of a test deployment's nodes, running the shipped multi-node site
file (deploy/nginx/parley-nodes.conf) with only its marked lines rewritten: the nodes' addresses
(`nodes:`), the cache directory (`cache:`) and the port (`listen:`). Clients then reach the
deployment as people would, through one address, and the test learns which node answered each
request from the `X-Parley-Upstream` header this harness (not the shipped file) adds."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import ServerProcess
from bench.nginx import DEPLOY, NginxOptions, running
from tests.support.clients import PASSWORD, EventStream, Person

SITE = DEPLOY / "parley-nodes.conf"
UPSTREAM_HEADER = "x-parley-upstream"
HARNESS = """
    access_log access.log;
    # Test only: which node answered (inherited by every location without add_header).
    add_header X-Parley-Upstream $upstream_addr always;
"""
_NODE_LINE = re.compile(r"^(\s*server )\S+( .*# nodes: (\w+))$", re.MULTILINE)


def site_config(node_addresses: dict[str, str], listen: int, cache: Path) -> str:
    """The shipped site with its node lines (`# nodes: a`...) pointed at `node_addresses`
    ({"a": "127.0.0.1:41234", ...}), listening on `listen`, caching under `cache`."""
    text = SITE.read_text()

    def node(match: re.Match[str]) -> str:
        return f"{match[1]}{node_addresses[match[3]]}{match[2]}"

    text = _NODE_LINE.sub(node, text)
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    return text.replace("/var/cache/nginx/parley", str(cache))


def node_names(text: str) -> dict[str, list[str]]:
    """Each upstream block's servers in a site file: {"parley_nodes": ["127.0.0.1:8001", ...]}."""
    blocks: dict[str, list[str]] = {}
    for name, body in re.findall(r"upstream (\w+) \{(.*?)\n\}", text, re.DOTALL):
        blocks[name] = re.findall(r"^\s*server (\S+)", body, re.MULTILINE)
    return blocks


@dataclass
class Gateway:
    base: str  # what clients use: http://127.0.0.1:port
    nodes: dict[str, ServerProcess]  # by name in the site file (a, b, c)
    log: Path

    def node_of(self, response: httpx.Response) -> ServerProcess:
        """The node that answered (the last one tried, when nginx moved on)."""
        return self.node_at(response.headers[UPSTREAM_HEADER])

    def socket_node(self, stream: EventStream) -> ServerProcess:
        """The node an event socket opened through nginx is on."""
        return self.node_at(stream.response_headers[UPSTREAM_HEADER])

    def node_at(self, upstreams: str) -> ServerProcess:
        address = upstreams.split(",")[-1].strip()
        for node in self.nodes.values():
            if node.base == f"http://{address}":
                return node
        raise AssertionError(f"{address} is none of the nodes")

    async def media_node(self, person: Person) -> ServerProcess:
        """Where the person's media requests go (the session decides; any space will do)."""
        r = await person.http.get("/spaces/no-such-space/media")
        return self.node_of(r)

    async def person_on(self, node: ServerProcess, handle: str) -> Person:
        """A person whose media requests nginx sends to `node`: signed up, then signed in
        again (a new session, hashed anew) until it lands there."""
        person = await Person.sign_up(self.base, handle)
        for _ in range(30):
            if await self.media_node(person) is node:
                return person
            await person.close()
            person = await Person.sign_in(self.base, handle, PASSWORD)
        raise AssertionError(f"no session of {handle} lands on {node.base}")


@contextlib.contextmanager
def gateway(nodes: list[ServerProcess]) -> Iterator[Gateway]:
    """nginx in front of `nodes` (named a, b, c in order, as the site file names its upstream
    servers)."""
    named = dict(zip("abc", nodes, strict=True))
    addresses = {name: node.base.removeprefix("http://") for name, node in named.items()}

    def site(port: int, cache: Path) -> str:
        return site_config(addresses, port, cache)

    with running(site, NginxOptions(http=HARNESS)) as nginx:
        try:
            yield Gateway(nginx.base_url, named, nginx.prefix / "access.log")
        except BaseException:
            print("--- nginx error log:\n" + nginx.error_log()[-3000:])
            raise
