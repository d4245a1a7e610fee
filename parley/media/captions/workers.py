"""Recognition off the event loop: worker processes, each with its own engine, fed phrases.

A phrase is sent as `Begin`, then `Audio` chunks, then `Finish`; every chunk is answered with the
text recognized so far and the audio it covered, so the node knows at each moment how much
audio waits in each worker (the backlog). A phrase goes to the worker with the least backlog and
stays there. When the backlog passes `max_backlog_s`, new phrases are not sent at all and chunks
of phrases under way are dropped: captions come late or not at all, and the mixer, which only
ever appends to a queue, is never held up.

Workers are spawned, not forked: the node runs threads (the database driver, aiortc's encoders),
which a fork would copy in whatever state they were in.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from parley.media.captions.engines import SAMPLE_RATE, EngineBusy, EngineSpec, Recognizer, load

log = logging.getLogger(__name__)

BYTES_PER_SECOND = SAMPLE_RATE * 2
WORKER_NICENESS = 10
# How often an idle worker checks that its node is still there (where the kernel cannot be
# asked to end it with its node: not Linux).
PARENT_CHECK_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Begin:
    key: int
    vocabulary: tuple[str, ...]
    voice: str


@dataclass(frozen=True)
class Audio:
    key: int
    pcm: bytes


@dataclass(frozen=True)
class Finish:
    key: int


@dataclass(frozen=True)
class Heard:
    """A worker's answer to one `Audio` (final=False) or to `Finish` (final=True)."""

    key: int
    text: str
    final: bool
    seconds: float  # audio this answer covered
    cpu_seconds: float
    busy: bool = False  # the worker had no recognizer free: the phrase goes uncaptioned


@dataclass(frozen=True)
class _Failed:
    worker: int
    why: str


def _next(inbox: Queue[Any], parent: int) -> Any:
    """The next message, or None (stop) once the node that started this worker is gone: a
    node killed with SIGKILL cannot tell its workers, and they must not outlive it."""
    while True:
        try:
            return inbox.get(timeout=PARENT_CHECK_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:
                return None


def _end_with_node(parent: int) -> None:
    """On Linux the kernel kills this worker the moment its node dies, even by SIGKILL: polling
    alone left a worker alive for as long as it was loading its model or recognizing (seconds,
    niced, on a busy core). Strictly the kernel watches the thread that started the worker:
    `RecognizerPool.start` runs on the node's event loop, which lasts as long as the node. The
    node may have died before this ran: then end now."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


def _work(
    number: int, spec: EngineSpec, inbox: Queue[Any], outbox: Queue[Any], parent: int
) -> None:
    """A worker process: load the engine once, then recognize until told to stop (None)."""
    _end_with_node(parent)
    # Captions lag or drop, audio and safety never: on a busy core the node's own work
    # (mixing, a suspension's hang-up) goes before recognition.
    os.nice(WORKER_NICENESS)
    try:
        engine = load(spec)
    except Exception as error:  # reported to the node, which logs it
        outbox.put(_Failed(number, f"{type(error).__name__}: {error}"))
        return
    phrases: dict[int, Recognizer | None] = {}
    while (message := _next(inbox, parent)) is not None:
        started = time.process_time()
        match message:
            case Begin(key, vocabulary, voice):
                try:
                    phrases[key] = engine.open(vocabulary, voice)
                except EngineBusy:
                    phrases[key] = None
            case Audio(key, pcm):
                phrase = phrases.get(key)
                text = phrase.feed(pcm) if phrase is not None else ""
                seconds = len(pcm) / BYTES_PER_SECOND
                used = time.process_time() - started
                outbox.put(Heard(key, text, False, seconds, used, busy=phrase is None))
            case Finish(key):
                phrase = phrases.pop(key, None)
                text = phrase.finish() if phrase is not None else ""
                used = time.process_time() - started
                outbox.put(Heard(key, text, True, 0.0, used, busy=phrase is None))


@dataclass
class PoolStats:
    audio_seconds: float = 0.0  # audio recognized
    cpu_seconds: float = 0.0  # workers' CPU time spent recognizing it
    phrases: int = 0  # phrases sent to a worker
    dropped_phrases: int = 0  # phrases not sent, or refused by a busy worker
    dropped_seconds: float = 0.0  # audio not sent because the backlog was too long
    failures: int = 0  # workers that could not load their engine


class RecognizerPool:
    def __init__(self, spec: EngineSpec, *, workers: int = 1, max_backlog_s: float = 4.0) -> None:
        self.spec = spec
        self.max_backlog_s = max_backlog_s
        self.stats = PoolStats()
        self._count = workers
        self._context = multiprocessing.get_context("spawn")
        self._inboxes: list[Queue[Any]] = []
        self._outbox: Queue[Any] | None = None
        self._processes: list[BaseProcess] = []
        self._backlog: list[float] = []
        self._routes: dict[int, tuple[int, Callable[[Heard], None]]] = {}
        self._voices: dict[str, int] = {}  # the worker each voice last went to
        self._keys = itertools.count(1)
        self._reader: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def started(self) -> bool:
        return bool(self._processes)

    @property
    def backlog_seconds(self) -> float:
        """Audio sent to the workers and not yet recognized."""
        return sum(self._backlog)

    @property
    def alive(self) -> int:
        return sum(p.is_alive() for p in self._processes)

    def start(self) -> None:
        if self._processes:
            return
        self._loop = asyncio.get_running_loop()
        outbox = self._outbox = self._context.Queue()
        for number in range(self._count):
            inbox = self._context.Queue()
            process = self._context.Process(
                target=_work,
                args=(number, self.spec, inbox, outbox, os.getpid()),
                name=f"parley-captions-{number}",
                daemon=True,
            )
            process.start()
            self._inboxes.append(inbox)
            self._processes.append(process)
            self._backlog.append(0.0)
        self._reader = threading.Thread(target=self._read, name="captions-reader", daemon=True)
        self._reader.start()

    def begin(
        self, vocabulary: tuple[str, ...], voice: str, listener: Callable[[Heard], None]
    ) -> int | None:
        """Start a phrase of `voice`; its key, or None when the workers are too far behind.
        A voice keeps to one worker while that one is not behind (it knows the voice)."""
        if not self._processes:
            self.start()
        worker = self._voices.get(voice)
        if worker is None or self._backlog[worker] > self.max_backlog_s / 2:
            worker = min(range(len(self._backlog)), key=self._backlog.__getitem__)
            self._voices[voice] = worker
        if self._backlog[worker] > self.max_backlog_s:
            self.stats.dropped_phrases += 1
            return None
        key = next(self._keys)
        self._routes[key] = (worker, listener)
        self._inboxes[worker].put(Begin(key, vocabulary, voice))
        self.stats.phrases += 1
        return key

    def send(self, key: int, pcm: bytes) -> bool:
        """Hand a chunk of the phrase on; False if it was dropped (the worker is behind)."""
        route = self._routes.get(key)
        seconds = len(pcm) / BYTES_PER_SECOND
        if route is None or self._backlog[route[0]] > 2 * self.max_backlog_s:
            self.stats.dropped_seconds += seconds
            return False
        self._backlog[route[0]] += seconds
        self._inboxes[route[0]].put(Audio(key, pcm))
        return True

    def finish(self, key: int) -> None:
        route = self._routes.get(key)
        if route is not None:
            self._inboxes[route[0]].put(Finish(key))

    def _read(self) -> None:
        """The reader thread: hand each answer to the event loop."""
        outbox, loop = self._outbox, self._loop
        assert outbox is not None and loop is not None
        while (reply := outbox.get()) is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(self._heard, reply)

    def _heard(self, reply: Heard | _Failed) -> None:
        if isinstance(reply, _Failed):
            self.stats.failures += 1
            log.error("captions worker %d could not start: %s", reply.worker, reply.why)
            return
        route = self._routes.get(reply.key)
        if route is None:
            return
        worker, listener = route
        self._backlog[worker] = max(0.0, self._backlog[worker] - reply.seconds)
        self.stats.audio_seconds += reply.seconds
        self.stats.cpu_seconds += reply.cpu_seconds
        if reply.final:
            del self._routes[reply.key]
            if reply.busy:
                self.stats.dropped_phrases += 1
        try:
            listener(reply)
        except Exception:
            log.exception("a caption listener failed")

    async def close(self) -> None:
        if not self._processes:
            return
        for inbox in self._inboxes:
            inbox.put(None)
        for process in self._processes:
            await asyncio.to_thread(process.join, 5)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)
        if self._outbox is not None:
            self._outbox.put(None)
        if self._reader is not None:
            await asyncio.to_thread(self._reader.join, 5)
        for inbox in self._inboxes:
            # A worker that was killed never read what is still queued for it, and the queue's
            # feeder thread would block on the full pipe for good, and the node's exit with it:
            # what it holds is audio nobody will hear captioned.
            inbox.cancel_join_thread()
        for pipe in (*self._inboxes, self._outbox):
            if pipe is not None:
                pipe.close()
        self._processes.clear()
        self._inboxes.clear()
        self._backlog.clear()
        self._routes.clear()
        self._voices.clear()
