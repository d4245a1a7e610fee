"""Real servers for integration tests: uvicorn on a free loopback port, in a thread of its own."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from parley.api.app import create_app
from parley.api.server import NodeServer
from parley.api.websocket_protocol import WebSocketProtocol
from parley.config import Settings
from parley.core.ratelimit import LimitName
from parley.services.node import Node
from tests.support.clients import http_client

T = TypeVar("T")

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"

# Cheap hashes and short timers: the behaviour under test is the same, only faster.
TEST_SETTINGS: dict[str, Any] = {
    "argon2_time_cost": 1,
    "argon2_memory_kib": 64,
    "host_grace_seconds": 1.0,
    "presence_timeout_seconds": 1.0,
    # A sweep costs about 15 ms of CPU even on an empty node (a dozen queries): at 0.1 s an idle
    # test server took 13 % of a core and the suite 3 minutes of CPU; at 0.25 s, 5 %, and what a
    # test waits for comes a sweep later, well inside its timeouts.
    "sweep_interval_seconds": 0.25,
    # Most tests act through the API alone, opening no socket: a join holds its place as long as
    # a test runs. Tests of the wait itself set it short (test_unconnected_presence.py).
    "connect_wait_seconds": 3600.0,
    # Tests play many people from one address in a few seconds; the rate-limit tests set the
    # limits they exercise (tests/security/test_rate_limits.py).
    "rate_limit_overrides": {name.value: "100000/s" for name in LimitName},
    "rate_limit_refusal_delay_seconds": 0,
    # Recognition costs a worker process and CPU: only the caption tests turn it on.
    "captions": "off",
}


class _PromptServer(NodeServer):
    """Parley's server, told to stop by an event rather than noticing `should_exit` on its next
    0.1 s tick: several hundred tests each stop a server, so the ticks added up to a minute."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config, app)
        self.stop_requested: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_requested = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self.stop_requested.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn gives open connections 0.1 s to finish; with none open there is nothing to
        # wait for, only the listening sockets to close and the node to stop.
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def stop(self) -> None:
        """From any thread: stop now."""
        self.should_exit = True
        if self.loop is not None and self.stop_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                self.loop.call_soon_threadsafe(self.stop_requested.set)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws=WebSocketProtocol,
            ws_max_size=settings.max_ws_message_bytes,
            proxy_headers=False,  # as `parley serve`: X-Forwarded-For only from trusted proxies
            lifespan="on",
        )
        self.server = _PromptServer(config, self.app)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        asyncio.run(serve())

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run `work` on the server's event loop (from the test's thread) and return its result."""
        assert self.loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    @property
    def node(self) -> Node:
        """The running node, for white-box checks of what no API shows (tasks, peers)."""
        node: Node = self.app.state.node
        return node

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.thread.join(timeout=20)
        if exc[0] is None and hasattr(self.app.state, "node"):
            # Nobody took this node for gone, so it never had to write its connection counts
            # back: a recount here means its tally drifted from what it counted.
            recounts = self.node.connection_counts.recounts
            assert recounts == 0, f"the node wrote its connection counts back {recounts} times"


@contextlib.contextmanager
def serve(**overrides: Any) -> Iterator[ServerThread]:
    # A data directory of its own unless the test shares one on purpose: a node clears the HLS
    # files a previous run left there at start-up, which would pull the segments from under a
    # server another test (another xdist worker) is running.
    with tempfile.TemporaryDirectory(prefix="parley-node-") as data:
        # Rate-limit counters of their own in the shared Redis: another test's (or another
        # developer's) stricter limits on 127.0.0.1 must not answer this one's requests.
        unique = {"rate_limit_key_prefix": f"parley:rl:{secrets.token_hex(6)}:"}
        settings = Settings(**{**TEST_SETTINGS, **unique, "data_dir": Path(data), **overrides})
        _start_from_sqlite_template(settings.effective_database_url)
        with ServerThread(settings) as server:
            yield server


SQLITE_PREFIX = "sqlite+aiosqlite:///"
_sqlite_template: Path | None = None


def _start_from_sqlite_template(database_url: str) -> None:
    """A server about to create a new SQLite database gets a copy of one the migrations built
    once per session instead (migrating costs a tenth of a second, several hundred times).
    tests/integration/test_schema_guard.py still migrates an empty database of its own."""
    global _sqlite_template
    if not database_url.startswith(SQLITE_PREFIX):
        return
    target = Path(database_url.removeprefix(SQLITE_PREFIX))
    if target.exists() or not target.parent.is_dir():
        return
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="parley-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "parley.db"
        # In a thread of its own: the calling test's event loop is running.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, _migrate(SQLITE_PREFIX + str(template))).result()
        _sqlite_template = template
    shutil.copyfile(_sqlite_template, target)


async def _migrate(database_url: str) -> None:
    from parley.store.db import Database

    db = Database(database_url)
    try:
        await db.migrate()
    finally:
        await db.close()


async def _postgres_reachable() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    await conn.close()
    return None


# Migrating a PostgreSQL database takes longer than copying one: the first test of a session
# migrates a template, and every test gets a copy of it. Each session (each pytest-xdist worker,
# each developer running tests at once) has a template of its own. Its databases' names carry
# its pid: a run killed before it could drop them leaves them behind, and the next session here
# drops those whose process is gone.
_TEMPLATE = f"parley_template_{os.getpid()}_{secrets.token_hex(6)}"
_template_ready = False
_LEFT_BEHIND = re.compile(r"parley_(?:template|test)_(\d+)_[0-9a-f]+")


def _postgres_url(name: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _ensure_template(admin: Any) -> None:
    global _template_ready
    if _template_ready:
        return
    from parley.store.db import Database

    await drop_databases_left_behind(admin)
    await admin.execute(f'CREATE DATABASE "{_TEMPLATE}"')
    db = Database(_postgres_url(_TEMPLATE))
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        await admin.execute(f'DROP DATABASE "{_TEMPLATE}" WITH (FORCE)')  # the next test retries
        raise
    await db.close()
    _template_ready = True


async def drop_databases_left_behind(admin: Any) -> None:
    """Drop the test databases whose session's process is no longer running."""
    import asyncpg

    for row in await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'parley_%'"):
        name = row["datname"]
        match = _LEFT_BEHIND.fullmatch(name)
        if match is None or _running(int(match.group(1))):
            continue
        # Another session starting now may be dropping it too.
        with contextlib.suppress(asyncpg.PostgresError):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's, running
    return True


async def drop_postgres_template() -> None:
    """At the end of the session (tests/conftest.py)."""
    global _template_ready
    if not _template_ready:
        return
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{_TEMPLATE}" WITH (FORCE)')
        _template_ready = False
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new database for one test, migrated to the newest schema and holding nothing else
    (a copy of the session's template), dropped afterwards."""
    import asyncpg

    from tests.support.prerequisites import missing

    problem = await _postgres_reachable()
    if problem:
        missing(f"PostgreSQL not reachable at 127.0.0.1:5432: {problem}")
    name = f"parley_test_{os.getpid()}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await _ensure_template(admin)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"')
        try:
            yield _postgres_url(name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"


@contextlib.asynccontextmanager
async def serve_on(database: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[ServerThread]:
    """A server on a new database of the kind named, "sqlite" (in `tmp_path`) or "postgres": for
    a module-scoped fixture parametrized over both, whose server its tests share."""
    async with contextlib.AsyncExitStack() as stack:
        if database == "sqlite":
            url = sqlite_url(tmp_path)
        else:
            url = await stack.enter_async_context(fresh_postgres_database())
        yield stack.enter_context(serve(database_url=url, **overrides))


def module_server(name: str, folder: str) -> Any:
    """A module-scoped fixture called `name`: one server per database ("sqlite", "postgres")
    that all the module's tests share, for modules whose tests make accounts of their own."""

    @pytest_asyncio.fixture(
        name=name,
        scope="module",
        loop_scope="module",
        params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    )
    async def shared(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[ServerThread]:
        async with serve_on(request.param, tmp_path_factory.mktemp(folder)) as running:
            yield running

    return shared


async def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.05) -> Any:
    """Polls `predicate` (a function, or a coroutine function) until it returns something true,
    and returns that: a test waits as long as the server takes, not a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def sweeps(server: ServerThread, count: int = 2) -> None:
    """Wait until the node has swept `count` more times (so it has seen a moved clock)."""
    node = server.node
    target = node.sweeps_done + count
    await wait_until(lambda: node.sweeps_done >= target)


@contextlib.asynccontextmanager
async def two_nodes(**settings: Any) -> AsyncIterator[tuple[ServerThread, ServerThread]]:
    """Two nodes sharing a fresh PostgreSQL database and the local Redis, as behind a load
    balancer. Tests using it carry the `postgres` and `redis` marks, whose prerequisites stop the
    run with a clear message when either is missing."""
    async with fresh_postgres_database() as url:
        prefix = f"parley:rl:{secrets.token_hex(6)}:"  # one for both: they share their limits
        shared = {
            "database_url": url,
            "redis_url": REDIS_URL,
            "rate_limit_key_prefix": prefix,
            **settings,
        }
        with serve(**shared) as a, serve(**shared) as b:
            yield a, b


def serve_process(data_dir: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`parley serve` as a process of its own on `data_dir` (its SQLite database too, unless
    `env` names another), for tests that kill it and start it again on the same data."""
    environment = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_KIB": "64",
        "PARLEY_RATE_LIMITS": "off",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "parley.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def answering(base_url: str) -> None:
    """Once `base_url` answers its health check (30 s at the most)."""
    deadline = time.monotonic() + 30
    async with http_client() as http:
        while True:
            try:
                if (await http.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "parley serve did not answer"
            await asyncio.sleep(0.1)
