"""Several real `parley serve` processes sharing a fresh PostgreSQL database and the local
Redis, with a node secret: one deployment. Tests talk to each node directly, as a load balancer
would send them, or through nginx in front of them all (tests/support/gateway.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from bench.common import ServerProcess, server_processes
from tests.support.audio import MediaClient
from tests.support.cli import parley_here
from tests.support.clients import PASSWORD, Person, http_client
from tests.support.servers import REDIS_URL, fresh_postgres_database

PARLEY = [sys.executable, "-m", "parley.cli"]
NODE_SECRET = "a secret every node of the test deployment shares"


@dataclass
class Deployment:
    nodes: list[ServerProcess]
    env: dict[str, str]  # what every node was started with
    # What else runs with the nodes (nginx in front of them), stopped before them.
    stack: contextlib.ExitStack

    async def admin(self, handle: str) -> None:
        """`parley admin create-user --admin`, on the deployment's database."""
        args = ("admin", "create-user", handle, "--password", PASSWORD, "--admin")
        made = await parley_here(*args, env={**os.environ, **self.env})
        assert made.returncode == 0, made.stderr


@contextlib.asynccontextmanager
async def cluster(count: int, cpus: str | None = None, **env: str) -> AsyncIterator[Deployment]:
    """`count` nodes, pinned to `cpus` with taskset when given (benchmarks)."""
    async with fresh_postgres_database() as url:
        shared = {
            "PARLEY_DATABASE_URL": url,
            "PARLEY_REDIS_URL": REDIS_URL,
            "PARLEY_NODE_SECRET": NODE_SECRET,
            **env,
        }
        with contextlib.ExitStack() as stack:
            nodes = stack.enter_context(server_processes(count, cpus, **shared))
            try:
                yield Deployment(nodes, shared, stack)
            except BaseException:
                for index, node in enumerate(nodes):  # what each node said, to see why
                    tail = node.log_path.read_text(errors="replace")[-3000:]
                    print(f"--- node {index} ({node.base}) log:\n{tail}")
                raise


def kill(node: ServerProcess) -> None:
    """As a crash: no clean-up, no goodbye to the other nodes."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(node.pid, signal.SIGKILL)


async def people(node: ServerProcess, *handles: str) -> list[Person]:
    return [await Person.sign_up(node.base, handle) for handle in handles]


async def offer_until_answered(
    person: Person, space_id: str, tone: float, deadline: float
) -> MediaClient:
    """Offers again until connected: until a dead or drained home's successor takes the space,
    nobody mixes it (503 `home_unreachable`), and a node answering just before it went away
    leaves a connection that never comes up (as the web client does, offer again)."""
    while True:
        try:
            return await MediaClient.connect(person, space_id, tone=tone)
        except (AssertionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def stops_answering(node: ServerProcess, timeout: float) -> None:
    """The node refuses connections: draining, it has stopped accepting (until then it refuses
    offers, but one it was answering as the signal came dies with it)."""
    deadline = time.monotonic() + timeout
    async with http_client(timeout=1) as http:
        while time.monotonic() < deadline:
            try:
                await http.get(f"{node.base}/healthz")
            except httpx.HTTPError:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{node.base} still answers")
