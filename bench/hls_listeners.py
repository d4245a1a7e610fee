"""Simulated HLS listeners, many per process: the load of bench/hls_load.py.

Each listener plays a space's live playlist as hls.js 1.x does (parley/web/vendor/hls.js is
1.7.4; the functions named below are its own):

- low-latency mode (LL-HLS, parts): it loads the playlist, then, each time a playlist arrives,
  asks at once for the next one by blocking reload (`_HLS_msn`/`_HLS_part` of the part after the
  last listed) and fetches the parts listed that it has not fetched yet. hls.js parses
  `EXT-X-PRELOAD-HINT` but does not fetch hinted parts, so neither does this. About 2 requests
  per part, ~3.9 a second;
- standard HLS (segments, no parts): it reloads the playlist on a schedule (base-playlist-
  controller's `playlistLoaded`, level-helper's `computeReloadInterval`): the next reload is due
  one reload interval after the previous one was due (not after its answer came), or at once if
  that moment has passed; the interval is the target duration, the last segment's duration when
  shorter (a player near the live edge), or half the target duration when the playlist had no
  new segment. It fetches each newly listed segment, in order, starting three target durations
  behind the live edge (`liveSyncDurationCount`). About one request a second.

Two keep-alive HTTP/1.1 connections per listener, as a browser would hold (playlists on one,
parts or segments on the other).

Thousands of listeners have to fit in what one core of Python can send, so this is no general
HTTP client: raw buffered asyncio protocols on uvloop reading every connection's bytes into one
buffer per process (no Python object per read), a response's head found and its status and
Content-Length read there, media bodies only counted, never copied; requests prebuilt as bytes,
playlists searched as bytes. It speaks only to nginx and the node, whose answers all have a
Content-Length.
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

import uvloop

# A part listed in a playlist: (segment number, part index).
LISTED = re.compile(rb'#EXT-X-PART:DURATION=[\d.]+,URI="seg-(\d+)\.(\d+)\.ts"')
HINT = re.compile(rb'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.ts"')
TAIL = 600  # bytes: the last four or five parts listed, and the hint
# A segment listed in a playlist without parts: its duration, its name, its number.
SEGMENT = re.compile(rb"#EXTINF:([\d.]+),\n(seg-(\d+)\.ts)")
TARGET = re.compile(rb"#EXT-X-TARGETDURATION:(\d+)")
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)

# Every connection of a process reads into this one buffer: the event loop hands it to one
# connection at a time and tells it how much it got, which it takes in before the next read.
_BUFFER = bytearray(256 * 1024)
_VIEW = memoryview(_BUFFER)


class HttpError(Exception):
    pass


class Http(asyncio.BufferedProtocol):
    """One keep-alive connection; one request at a time (as a browser's HTTP/1.1)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.keep = False  # the body is wanted (a playlist), or only counted (media)
        self.head = b""  # a response head split over reads, so far
        self.status = 0
        self.left = -1  # body bytes still to come; -1 while the head is read
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass of it

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(HttpError("connection lost"))

    def get_buffer(self, sizehint: int) -> memoryview:
        return _VIEW

    def buffer_updated(self, nbytes: int) -> None:
        at = 0
        while at < nbytes:
            if self.left < 0:
                if self.head:  # rare: the head came in pieces
                    before = len(self.head)
                    head = self.head = self.head + _BUFFER[at:nbytes]
                    end = head.find(b"\r\n\r\n")
                    if end < 0:
                        return
                    self._start(head, 0, end)
                    at += end + 4 - before
                    self.head = b""
                else:
                    end = _BUFFER.find(b"\r\n\r\n", at, nbytes)
                    if end < 0:
                        self.head = bytes(_BUFFER[at:nbytes])
                        return
                    self._start(_BUFFER, at, end)
                    at = end + 4
            take = min(self.left, nbytes - at)
            if self.keep and take:
                self.body.append(bytes(_BUFFER[at : at + take]))
            self.left -= take
            at += take
            if self.left == 0:
                self._done()

    def _start(self, head: bytes | bytearray, at: int, end: int) -> None:
        try:
            self.status = int(head[at + 9 : at + 12])
        except ValueError:
            self._fail(HttpError(f"not an HTTP response: {bytes(head[at : at + 40])!r}"))
            self.status = 0
        length = CONTENT_LENGTH.search(head, at, end + 2)
        self.left = int(length[1]) if length else 0

    def _done(self) -> None:
        waiter, body = self.waiter, self.body
        self.waiter, self.body, self.left = None, [], -1
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, body[0] if len(body) == 1 else b"".join(body)))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # no "never retrieved" warning if its listener was cancelled

    def send(self, request: bytes, keep: bool) -> asyncio.Future[tuple[int, bytes]]:
        waiter = asyncio.get_running_loop().create_future()
        if self.transport is None:
            waiter.set_exception(HttpError("not connected"))
            return waiter
        self.waiter, self.keep = waiter, keep
        self.transport.write(request)
        return waiter


@dataclass
class Target:
    host: str
    port: int
    path: str  # .../hls/ of the space
    source: str  # local address to connect from (spreads ephemeral ports over 127.0.0.x)
    # Requests already built: every listener asks for the same few names.
    _built: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def request(self, tail: str) -> bytes:
        found = self._built.get(tail)
        if found is None:
            found = f"GET {self.path}{tail} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode()
            if len(self._built) > 10_000:
                self._built.clear()
            self._built[tail] = found
        return found


@dataclass
class Tally:
    """What this process's listeners did inside the measured window."""

    start: float
    end: float
    requests: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    # When each listener had each new part's (segment's) bytes: (msn, part) -> times; a
    # segment's key is (its number, -1).
    arrived: dict[tuple[int, int], list[float]] = field(default_factory=dict)
    gaps: int = 0  # parts a listener skipped: it fell more than the listed parts behind
    skipped: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    restarts: int = 0  # listeners that started again from the live edge after an error
    # Standard HLS: how late each reload went out after hls.js's schedule had it due (this
    # process keeping time, or not).
    lag: list[float] = field(default_factory=list)

    def count(self, status: int, now: float) -> None:
        if self.start <= now < self.end:
            self.requests += 1
            if status != 200:
                self.errors += 1
                self.statuses[status] += 1

    def had(self, key: tuple[int, int], now: float) -> None:
        if self.start <= now < self.end:
            self.arrived.setdefault(key, []).append(now)


async def connect(target: Target) -> Http:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        Http, target.host, target.port, local_addr=(target.source, 0)
    )
    return protocol


async def get(http: Http, request: bytes, tally: Tally, keep: bool = True) -> tuple[int, bytes]:
    status, body = await http.send(request, keep)
    tally.count(status, time.time())
    return status, body


async def listener(target: Target, tally: Tally, delay: float, segments: bool) -> None:
    """One hls.js-like player, from `delay` until the window ends."""
    await asyncio.sleep(delay)
    while time.time() < tally.end:
        player = SegmentPlayer(target, tally) if segments else Player(target, tally)
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
    """hls.js's two loops in low-latency mode: its playlist loader asks for the next blocking
    reload as soon as a playlist arrives; its stream controller fetches each newly listed part
    in order, on a connection of its own, independently of the reloads."""

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

    def _reloads_over(self, _: asyncio.Task[None]) -> None:
        if self.listed is not None and not self.listed.done():
            self.listed.set_result(None)  # the loop looks at why they ended

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
        self.reloading.add_done_callback(self._reloads_over)
        fetched: tuple[int, int] | None = None
        while time.time() < self.tally.end:
            if self.reloading.done():
                self.reloading.result()  # its error, if it failed
            if not self.todo:
                self.listed = asyncio.get_running_loop().create_future()
                await self.listed  # resolved by the reloads: a new entry, or their end
                continue
            key = self.todo.popleft()
            if fetched is not None and key not in after(fetched):
                self.tally.gaps += 1  # parts it never got: it fell out of the listed parts
                self.tally.skipped.append((fetched, key))
            request = self.target.request(f"seg-{key[0]}.{key[1]}.ts")
            status, _ = await get(parts, request, self.tally, keep=False)
            if status != 200:
                raise HttpError(f"part {status}")
            if fetched is not None:
                self.tally.had(key, time.time())
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


class SegmentPlayer:
    """hls.js's two loops without parts: the playlist reloaded on its schedule (the module
    docstring), each new segment fetched in order on a connection of its own."""

    def __init__(self, target: Target, tally: Tally) -> None:
        self.target, self.tally = target, tally
        self.reloads: Http | None = None
        self.segments: Http | None = None
        self.todo: deque[tuple[int, bytes]] = deque()  # (number, name)
        self.listed: asyncio.Future[None] | None = None
        self.reloading: asyncio.Task[None] | None = None

    def close(self) -> None:
        if self.reloading is not None:
            self.reloading.cancel()
        for http in (self.reloads, self.segments):
            if http is not None and http.transport is not None:
                http.transport.close()

    def _reloads_over(self, _: asyncio.Task[None]) -> None:
        if self.listed is not None and not self.listed.done():
            self.listed.set_result(None)

    async def play(self) -> None:
        reloads = self.reloads = await connect(self.target)
        segments = self.segments = await connect(self.target)
        playlist = self.target.request("live.m3u8")
        sent = time.time()
        status, text = await get(reloads, playlist, self.tally)
        if status != 200:
            raise HttpError(f"playlist {status}")
        found = SEGMENT.findall(text)
        target = TARGET.search(text)
        if not found or target is None:
            raise HttpError("no segment listed: the space ended?")
        seconds = float(target[1])
        # hls.js starts three target durations behind the live edge: the segment holding
        # that moment, and every one after it.
        behind, start = 0.0, len(found)
        while start > 0 and behind < 3 * seconds:
            start -= 1
            behind += float(found[start][0])
        self.todo.extend((int(n), name) for _, name, n in found[start:])
        newest = int(found[-1][2])
        # The first reload is due one interval after the first request went out.
        due = sent + reload_interval(seconds, float(found[-1][0]), updated=True)
        self.reloading = asyncio.create_task(self.reload(reloads, playlist, seconds, newest, due))
        self.reloading.add_done_callback(self._reloads_over)
        fetched: int | None = None
        while time.time() < self.tally.end:
            if self.reloading.done():
                self.reloading.result()
            if not self.todo:
                self.listed = asyncio.get_running_loop().create_future()
                await self.listed  # resolved by the reloads: a new entry, or their end
                continue
            number, name = self.todo.popleft()
            if fetched is not None and number != fetched + 1:
                self.tally.gaps += 1
                self.tally.skipped.append(((fetched, -1), (number, -1)))
            request = self.target.request(name.decode())
            status, _ = await get(segments, request, self.tally, keep=False)
            if status != 200:
                raise HttpError(f"segment {status}")
            if fetched is not None:
                self.tally.had((number, -1), time.time())
            fetched = number

    async def reload(
        self, http: Http, playlist: bytes, seconds: float, newest: int, due: float
    ) -> None:
        tally = self.tally
        while True:
            wait = due - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            now = time.time()
            if tally.start <= now < tally.end:
                tally.lag.append(now - due)
            status, text = await get(http, playlist, tally)
            if status != 200:
                raise HttpError(f"reload {status}")
            found = SEGMENT.findall(text)
            updated = bool(found) and int(found[-1][2]) != newest
            for _, name, n in found:
                if int(n) > newest:
                    self.todo.append((int(n), name))
                    newest = int(n)
            last = float(found[-1][0]) if found else seconds
            interval = reload_interval(seconds, last, updated=updated)
            now = time.time()
            # As playlistLoaded: due again one interval after it was due, or now if that passed.
            due = now if due + interval < now else due + interval
            if updated and self.listed is not None and not self.listed.done():
                self.listed.set_result(None)


def reload_interval(target: float, last: float, *, updated: bool) -> float:
    """hls.js's computeReloadInterval for a player near the live edge: the target duration,
    the last segment's when shorter; half the target duration when nothing new was listed."""
    if not updated:
        return target / 2
    return last if 0 < last < target else target


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def audience(
    targets: list[Target], n: int, start: float, end: float, segments: bool
) -> tuple[Tally, float]:
    """`n` listeners arriving evenly until `start`, playing until `end`; the tally and the CPU
    seconds this process used between `start` and `end`."""
    tally = Tally(start, end)
    ramp = max(0.0, start - time.time() - 2)  # all playing two seconds before the window
    tasks = [
        asyncio.create_task(listener(targets[i % len(targets)], tally, ramp * i / n, segments))
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


def run(targets: list[Target], n: int, start: float, end: float, segments: bool, out: Pipe) -> None:
    """A load process, on the load core (core 1); sends back (tally, cpu)."""
    os.sched_setaffinity(0, {1})
    out.send(uvloop.run(audience(targets, n, start, end, segments)))
