"""Simulated LL-HLS listeners, many per process: the load of bench/hls_load.py.

Each listener plays a space's live playlist as hls.js (1.x, low-latency mode) does: it loads the
playlist, then, each time a playlist arrives, asks at once for the next one by blocking reload
(`_HLS_msn`/`_HLS_part` of the part after the last listed) and fetches the parts listed that it
has not fetched yet. hls.js parses `EXT-X-PRELOAD-HINT` but does not fetch hinted parts, so
neither does this. Two keep-alive HTTP/1.1 connections per listener, as a browser would hold
(the held reload on one, parts on the other). About 2 requests per part, ~3.9 a second.

Thousands of listeners have to fit in what one core of Python can send, so this is no general
HTTP client: raw asyncio protocols on uvloop with httptools' parser (both already installed with
uvicorn[standard]), requests prebuilt as bytes, the playlist searched as bytes. It speaks only
to nginx and the node, whose answers all have a Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import cast

import httptools
import uvloop

# A part listed in a playlist: (segment number, part index).
LISTED = re.compile(rb'#EXT-X-PART:DURATION=[\d.]+,URI="seg-(\d+)\.(\d+)\.ts"')
HINT = re.compile(rb'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.ts"')
TAIL = 600  # bytes: the last four or five parts listed, and the hint


class HttpError(Exception):
    pass


class Http(asyncio.Protocol):
    """One keep-alive connection; one request at a time (as a browser's HTTP/1.1)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(str(exc)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(HttpError("connection lost"))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, body = self.waiter, b"".join(self.body)
        self.waiter, self.body = None, []
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), body))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # no "never retrieved" warning if its listener was cancelled

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        waiter = asyncio.get_running_loop().create_future()
        if self.transport is None:
            waiter.set_exception(HttpError("not connected"))
            return waiter
        self.waiter = waiter
        self.transport.write(request)
        return waiter


@dataclass
class Target:
    host: str
    port: int
    path: str  # .../hls/ of the space
    source: str  # local address to connect from (spreads ephemeral ports over 127.0.0.x)

    def request(self, tail: str) -> bytes:
        return f"GET {self.path}{tail} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode()


@dataclass
class Tally:
    """What this process's listeners did inside the measured window."""

    start: float
    end: float
    requests: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # When each listener had each new part's bytes: (msn, part) -> times.
    arrived: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    gaps: int = 0  # parts a listener skipped: it fell more than the listed parts behind
    skipped: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    restarts: int = 0  # listeners that started again from the live edge after an error

    def count(self, status: int, now: float) -> None:
        if self.start <= now < self.end:
            self.requests += 1
            if status != 200:
                self.errors += 1
                self.statuses[status] += 1


async def connect(target: Target) -> Http:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        Http, target.host, target.port, local_addr=(target.source, 0)
    )
    return protocol


async def get(http: Http, request: bytes, tally: Tally) -> tuple[int, bytes]:
    status, body = await http.send(request)
    tally.count(status, time.time())
    return status, body


async def listener(target: Target, tally: Tally, delay: float) -> None:
    """One hls.js-like player, from `delay` until the window ends."""
    await asyncio.sleep(delay)
    while time.time() < tally.end:
        player = Player(target, tally)
        try:
            await player.play()
        except (HttpError, OSError):
            if time.time() < tally.end:
                tally.restarts += 1
                await asyncio.sleep(0.5)
        finally:
            player.close()


def after(key: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The part that may come next: the next in the same segment, or the next segment's first."""
    return (key[0], key[1] + 1), (key[0] + 1, 0)


class Player:
    """hls.js's two loops: its playlist loader asks for the next blocking reload as soon as a
    playlist arrives; its stream controller fetches each newly listed part in order, on a
    connection of its own, independently of the reloads."""

    def __init__(self, target: Target, tally: Tally) -> None:
        self.target, self.tally = target, tally
        self.reloads: Http | None = None
        self.parts: Http | None = None
        self.todo: deque[tuple[int, int]] = deque()
        self.listed: asyncio.Future[None] | None = None  # resolved when `todo` grows
        self.reloading: asyncio.Task[None] | None = None

    def close(self) -> None:
        if self.reloading is not None:
            self.reloading.cancel()
        for http in (self.reloads, self.parts):
            if http is not None and http.transport is not None:
                http.transport.close()

    async def play(self) -> None:
        reloads = self.reloads = await connect(self.target)
        parts = self.parts = await connect(self.target)
        status, text = await get(reloads, self.target.request("live.m3u8"), self.tally)
        if status != 200:
            raise HttpError(f"playlist {status}")
        # A player starts a few parts behind the live edge (PART-HOLD-BACK): the last three.
        listed = [(int(m), int(p)) for m, p in LISTED.findall(text)]
        self.todo.extend(listed[-3:])
        newest = listed[-1] if listed else (0, 0)
        self.reloading = asyncio.create_task(self.reload(reloads, text, newest))
        fetched: tuple[int, int] | None = None
        while time.time() < self.tally.end:
            if self.reloading.done():
                self.reloading.result()  # its error, if it failed
            if not self.todo:
                self.listed = asyncio.get_running_loop().create_future()
                await asyncio.wait([self.listed, self.reloading], return_when="FIRST_COMPLETED")
                continue
            key = self.todo.popleft()
            if fetched is not None and key not in after(fetched):
                self.tally.gaps += 1  # parts it never got: it fell out of the listed parts
                self.tally.skipped.append((fetched, key))
            request = self.target.request(f"seg-{key[0]}.{key[1]}.ts")
            status, _ = await get(parts, request, self.tally)
            if status != 200:
                raise HttpError(f"part {status}")
            now = time.time()
            if fetched is not None and self.tally.start <= now < self.tally.end:
                self.tally.arrived.setdefault(key, []).append(now)
            fetched = key

    async def reload(self, http: Http, text: bytes, newest: tuple[int, int]) -> None:
        while True:
            # The hint and the newest parts are at the end: parse the tail (CPU is what limits
            # the audience this machine can simulate), the whole playlist only if the tail
            # does not reach back to what this player has.
            tail = max(0, len(text) - TAIL)
            hint = HINT.search(text, tail)
            if hint is None:
                raise HttpError("no preload hint: the space ended?")
            # hls.js asks for the part after the last listed: the hinted one.
            path = f"live.m3u8?_HLS_msn={int(hint[1])}&_HLS_part={int(hint[2])}"
            status, text = await get(http, self.target.request(path), self.tally)
            if status != 200:
                raise HttpError(f"reload {status}")
            tail = max(0, len(text) - TAIL)
            found = [(int(m), int(p)) for m, p in LISTED.findall(text, tail)]
            if tail and (not found or found[0] > newest):
                found = [(int(m), int(p)) for m, p in LISTED.findall(text)]
            for key in found:
                if key > newest:
                    self.todo.append(key)
                    newest = key
            if self.listed is not None and not self.listed.done():
                self.listed.set_result(None)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def audience(targets: list[Target], n: int, start: float, end: float) -> tuple[Tally, float]:
    """`n` listeners arriving evenly until `start`, playing until `end`; the tally and the CPU
    seconds this process used between `start` and `end`."""
    tally = Tally(start, end)
    ramp = max(0.0, start - time.time() - 2)  # all playing two seconds before the window
    tasks = [
        asyncio.create_task(listener(targets[i % len(targets)], tally, ramp * i / n))
        for i in range(n)
    ]
    await asyncio.sleep(max(0.0, start - time.time()))
    cpu0 = cpu_seconds()
    await asyncio.sleep(max(0.0, end - time.time()))
    cpu = cpu_seconds() - cpu0
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
    return tally, cpu


def run(targets: list[Target], n: int, start: float, end: float, out: Pipe) -> None:
    """A load process, on the load core (core 1); sends back (tally, cpu)."""
    os.sched_setaffinity(0, {1})
    out.send(uvloop.run(audience(targets, n, start, end)))
