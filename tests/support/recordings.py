"""A space's recording in tests: waits for its segments and its end, and the singer's voice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.support.audio import MediaClient
from tests.support.clients import Person


async def recorded_segments(person: Person, sid: str, count: int, timeout: float = 20) -> Any:
    """The recording, once it holds at least `count` segments."""
    deadline = time.monotonic() + timeout
    while True:
        r = await person.http.get(f"/spaces/{sid}/recording")
        if r.status_code == 200 and r.json()["segments"] >= count:
            return r.json()
        assert time.monotonic() < deadline, f"not {count} segments in time: {r.text}"
        await asyncio.sleep(0.2)


async def complete(http: httpx.AsyncClient, sid: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        r = await http.get(f"/spaces/{sid}/recording")
        if r.status_code == 200 and r.json()["state"] == "complete":
            return r.json()
        assert time.monotonic() < deadline, f"the recording was not finalized: {r.text}"
        await asyncio.sleep(0.2)


def singer_voice(client: MediaClient) -> Any:
    (sender,) = client.pc.getSenders()
    return sender.track
