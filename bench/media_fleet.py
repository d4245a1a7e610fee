"""The listeners of bench/media.py in a child process of their own, so that the measuring process
(the speaker, the probe) is not slowed by them; the parent asks for a look at their counters."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.media_clients import Peer, client_session, connect


@dataclass
class Mark:
    """A look at the listeners: when, the client's CPU, and each listener's counters."""

    at: float
    cpu: float
    packets: list[int]
    bytes: list[int]
    connected: int


def _fleet_process(
    api: str, space_id: str, tokens: list[str], limit: int, conn: Connection
) -> None:
    try:
        asyncio.run(_fleet(api, space_id, tokens, limit, conn))
    except Exception:
        conn.send(("error", traceback.format_exc()))


async def _fleet(api: str, space_id: str, tokens: list[str], limit: int, conn: Connection) -> None:
    async with client_session() as http:
        gate = asyncio.Semaphore(limit)

        async def one(token: str) -> Peer | None:
            async with gate:
                try:
                    return await connect(http, api, space_id, token, light=True)
                except Exception as exc:
                    print(f"listener failed to connect: {exc!r}", file=sys.stderr)
                    return None

        started = time.monotonic()
        connecting = await asyncio.gather(*(one(t) for t in tokens))
        peers = [p for p in connecting if p is not None]
        conn.send(("ready", (time.monotonic() - started, len(peers))))
        while True:
            message = await asyncio.to_thread(conn.recv)
            if message != "mark":
                break
            conn.send(
                Mark(
                    time.monotonic(),
                    time.process_time(),
                    [p.counter.packets for p in peers] + [0] * (len(tokens) - len(peers)),
                    [p.counter.bytes for p in peers] + [0] * (len(tokens) - len(peers)),
                    sum(p.pc.connectionState == "connected" for p in peers),
                )
            )
        await asyncio.gather(*(p.pc.close() for p in peers))
    conn.send(("closed", 0.0))


class Fleet:
    """Listeners connecting from a child process, looked at on request."""

    def __init__(self, api: str, space_id: str, tokens: list[str], limit: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_fleet_process, args=(api, space_id, tokens, limit, child), daemon=True
        )
        self.process.start()

    async def _receive(self) -> Any:
        reply = await asyncio.to_thread(self.conn.recv)
        if isinstance(reply, tuple) and reply[0] == "error":
            raise RuntimeError(f"listener process failed:\n{reply[1]}")
        return reply

    async def ready(self) -> tuple[float, int]:
        """Seconds it took to connect the listeners, and how many connected."""
        kind, (seconds, connected) = await self._receive()
        assert kind == "ready", kind
        return float(seconds), int(connected)

    async def mark(self) -> Mark:
        self.conn.send("mark")
        reply = await self._receive()
        assert isinstance(reply, Mark)
        return reply

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send("stop")
            await asyncio.wait_for(self._receive(), 60)
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
