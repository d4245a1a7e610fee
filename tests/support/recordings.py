"""A space's recording in tests: waits for its segments and its end, and the singer's voice."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from parley.core.recordings import RecordedSegment
from parley.store.db import Database
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore
from tests.support.audio import MediaClient
from tests.support.clients import Person
from tests.support.rows import T0, live_space, stored_accounts
from tests.support.servers import ServerThread, serve, sqlite_url


def recording_server(
    tmp_path: Path, **overrides: Any
) -> contextlib.AbstractContextManager[ServerThread]:
    """A server keeping its data under `tmp_path`, cutting one-second segments (what the tests'
    tones and counts are made for), and letting an ended space's live HLS go after a second."""
    settings: dict[str, Any] = {
        "database_url": sqlite_url(tmp_path),
        "data_dir": tmp_path / "data",
        "hls_segment_seconds": 1.0,
        "hls_ended_keep_seconds": 1.0,
    }
    return serve(**settings | overrides)


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


def tone_segments(count: int, frequency: float, seconds: float = 1.0) -> list[bytes]:
    """`count` MPEG-TS segments of `seconds` each of a tone, as the live segmenter makes them."""
    from parley.media.segmenter import AacSegmenter

    segmenter = AacSegmenter(seconds)
    t = np.arange(int(48_000 * seconds * count)) / 48_000
    mono = (np.sin(2 * np.pi * frequency * t) * 8000).astype(np.int16)
    pcm = np.stack([mono, mono], axis=1)
    made = []
    for at in range(0, len(pcm), 960):
        made += segmenter.push(pcm[at : at + 960], at)
    return [s.data for s in made + segmenter.finish()][:count]


# --- in the store directly -------------------------------------------------------------


def segment(space_id: str, sequence: int) -> RecordedSegment:
    return RecordedSegment(space_id, sequence, T0 + timedelta(seconds=sequence), 1.0, 100, False)


async def recorded_spaces(db: Database, n: int) -> list[str]:
    """`n` live recorded spaces of one host, each with its first segment indexed."""
    (host,) = await stored_accounts(db, 1, "host", T0)
    ids = []
    async with db.write() as conn:
        for k in range(n):
            space = replace(live_space(host), id=f"{k:x}" * 32, recording=True)
            await SpaceStore(conn).create(space)
            store = RecordingStore(conn)
            await store.begin(space.id, host, T0)
            assert (await store.add_while_open(segment(space.id, 0))) is not None
            ids.append(space.id)
    return ids


async def indexed(db: Database, space_id: str) -> list[int]:
    async with db.read() as conn:
        return [s.sequence for s in await RecordingStore(conn).segments(space_id)]
