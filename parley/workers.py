"""`parley serve --workers N`: N worker processes on one port, one node.

The parent binds the port once, migrates the database once, and starts N workers (spawned, not
forked: nothing of the parent's event loop or connections leaks into them), each handed the
listening socket: the kernel gives each new connection to whichever worker accepts it. Each
worker is a whole Parley node of its own (its sweep, its feeds, its session cache, its media),
made one service with the others by PostgreSQL and the Redis bus, exactly as nodes behind a load
balancer are; so SQLite and the in-process bus are refused. A space's media lives in its home
worker (api/worker_routing.py), which each worker also serves on a Unix socket of its own for the
others to forward to. A worker that dies is started again under the same index.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from parley.api.worker_routing import worker_socket
from parley.config import Settings


class WorkersRefused(ValueError):
    """Why this node cannot run several workers."""


def check_workers(settings: Settings, workers: int) -> None:
    if workers <= 1:
        return
    if not settings.effective_database_url.startswith("postgresql"):
        raise WorkersRefused(
            f"--workers {workers} needs PostgreSQL (PARLEY_DATABASE_URL=postgresql://...): "
            "SQLite has one writer at a time, so workers would only queue behind each other"
        )
    if not settings.redis_url:
        raise WorkersRefused(
            f"--workers {workers} needs Redis (PARLEY_REDIS_URL=redis://...): the workers hear "
            "each other's events, suspensions and sign-outs on the bus"
        )


def serve_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    check_workers(settings, workers)
    asyncio.run(_migrate(settings))
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(4096)
    listener.set_inheritable(True)
    context = multiprocessing.get_context("spawn")
    settings = settings.model_copy(update={"workers": workers})

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_worker, args=(settings, index, listener), name=f"parley-worker-{index}"
        )
        process.start()
        return process

    running = [start(i) for i in range(workers)]
    print(f"Parley serving on http://{host}:{port} with {workers} workers")
    stopping = False

    def terminate_all() -> None:
        for process in running:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        # At once, not at the loop's next look: from the signal on, a worker refuses the media
        # offers it would answer only to close them (api/server.py).
        terminate_all()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        time.sleep(0.2)
        for index, process in enumerate(running):
            if not process.is_alive() and not stopping:
                print(f"worker {index} exited ({process.exitcode}); starting it again")
                running[index] = start(index)
    terminate_all()  # again: a worker started again as the signal came
    for process in running:
        # Each worker drains first (settings.drain_seconds), then stops its node.
        process.join(timeout=settings.drain_seconds + 15)
        if process.is_alive():
            process.kill()
    listener.close()
    return 0


async def _migrate(settings: Settings) -> None:
    """Once, before any worker starts: N workers migrating at once would race."""
    from parley.store.db import Database

    db = Database(settings.effective_database_url)
    try:
        await db.migrate()
    finally:
        await db.close()


def _worker(settings: Settings, index: int, listener: socket.socket) -> None:
    from parley.api.app import create_app
    from parley.api.logs import redact_tokens_in_server_logs, show_parley_logs
    from parley.api.server import NodeServer, server_config

    redact_tokens_in_server_logs()
    show_parley_logs(settings.log_level)
    settings = settings.model_copy(update={"worker_index": index})
    path = worker_socket(settings.data_dir, index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    local = socket.socket(socket.AF_UNIX)
    local.bind(str(path))
    local.listen(1024)
    app = create_app(settings)
    NodeServer(server_config(app, settings), app).run(sockets=[listener, local])
