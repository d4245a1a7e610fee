"""Work a service starts and does not wait for: kept (asyncio holds tasks only weakly),
cancelled when the service stops, and its failures logged rather than lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a task a service started and wait until it has ended, so that what it held is
    let go before the caller goes on (nothing to do without one)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class BackgroundWork:
    def __init__(
        self, log: logging.Logger, what: str, expected: tuple[type[BaseException], ...] = ()
    ) -> None:
        self._log = log
        self._what = what
        # Failures that are part of the work's normal life (a space gone meanwhile): not logged.
        self._expected = expected
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, self._expected):
            self._log.error("%s failed", self._what, exc_info=error)
