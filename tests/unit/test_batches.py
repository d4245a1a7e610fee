"""Requests that queue behind a key's batch share the next one; outcomes stay each request's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from parley.services.batches import Batches


class Recorder:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def handle(self, key: str, requests: Sequence[int]) -> list[int | Exception]:
        self.batches.append((key, list(requests)))
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [ValueError(f"odd {r}") if r % 2 else r * 10 for r in requests]


async def test_requests_queued_behind_a_batch_share_the_next_one() -> None:
    recorder = Recorder()
    batches: Batches[str, int, int] = Batches(recorder.handle)
    first = asyncio.create_task(batches.submit("space", 2))
    await asyncio.sleep(0)  # the first batch is running, holding the key
    await asyncio.sleep(0)
    later = [asyncio.create_task(batches.submit("space", n)) for n in (4, 6, 8)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == 20
    assert [await t for t in later] == [40, 60, 80]
    assert recorder.batches == [("space", [2]), ("space", [4, 6, 8])]


async def test_a_refusal_is_its_own_requests_and_keys_run_apart() -> None:
    recorder = Recorder()
    recorder.release.set()
    batches: Batches[str, int, int] = Batches(recorder.handle)
    results = await asyncio.gather(
        batches.submit("a", 2),
        batches.submit("a", 3),
        batches.submit("b", 4),
        return_exceptions=True,
    )
    assert results[0] == 20
    assert isinstance(results[1], ValueError) and str(results[1]) == "odd 3"
    assert results[2] == 40
    assert sorted(recorder.batches) == [("a", [2, 3]), ("b", [4])]


async def test_a_failed_batch_fails_each_of_its_requests_and_the_next_batch_runs() -> None:
    recorder = Recorder()
    recorder.release.set()
    recorder.fail = RuntimeError("database gone")
    batches: Batches[str, int, int] = Batches(recorder.handle)
    results = await asyncio.gather(
        batches.submit("a", 2), batches.submit("a", 4), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    recorder.fail = None
    assert await batches.submit("a", 6) == 60


async def test_a_batch_holds_at_most_the_largest_count() -> None:
    recorder = Recorder()
    recorder.release.set()
    batches: Batches[str, int, int] = Batches(recorder.handle, largest=2)
    assert await asyncio.gather(*(batches.submit("a", n) for n in (2, 4, 6))) == [20, 40, 60]
    assert recorder.batches == [("a", [2, 4]), ("a", [6])]


async def test_a_caller_going_away_leaves_its_request_in_the_batch() -> None:
    recorder = Recorder()
    batches: Batches[str, int, int] = Batches(recorder.handle)
    gone = asyncio.create_task(batches.submit("a", 2))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    recorder.release.set()
    assert await batches.submit("a", 4) == 40
    assert recorder.batches == [("a", [2]), ("a", [4])]
