"""How a node's start-up grows with the recordings it keeps.

    .venv/bin/python -m bench.recording_archive [--recordings 200] [--runs 2] [--no-record]

A node's recorder looks at every recording on disk when it starts (services/recorder.py): the
unfinished ones before the node serves (a segment the index missed is indexed), the final ones
after (files nothing could serve are deleted). The data directory is seeded with N ended spaces,
each a final recording of an hour of 2 s segments (1,800 rows and files; the files are a byte
each: nothing reads them at start-up), with one stray segment file in the recording looked at
last. Rows: time from launching `parley serve` (pinned to core 0; SQLite) to its first
`/healthz` 200, and to the stray file's deletion (the whole archive looked through). This
process only seeds and polls, on core 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.common import free_port, record
from parley.store.db import Database
from parley.store.tables import accounts, recording_segments, recordings, spaces

SEGMENTS = 1_800  # an hour of 2 s segments
FIRST = 1_800_000_000


async def seed(data: Path, count: int) -> None:
    """`count` final hour-long recordings."""
    database = Database(f"sqlite+aiosqlite:///{data / 'parley.db'}")
    await database.migrate()
    now = datetime.now(UTC)
    host = {"id": "host", "handle": "host", "handle_key": "host", "display_name": "Host"}
    async with database.write() as conn:
        await conn.execute(insert(accounts).values(**host, password_hash="-", created_at=now))
        for i in range(count):
            space_id = f"space{i:06d}"
            await conn.execute(
                insert(spaces).values(
                    id=space_id, host_id="host", title="Archive", topics=[], state="ended",
                    created_at=now, ended_at=now, recording=True, speak_policy="everyone",
                    seq=1, listener_count=0,
                )
            )  # fmt: skip
            await conn.execute(
                insert(recordings).values(
                    space_id=space_id, host_id="host", created_at=now, finalized_at=now
                )
            )
            await conn.execute(
                insert(recording_segments),
                [
                    {
                        "space_id": space_id, "sequence": FIRST + k, "size": 1,
                        "started_at": now + timedelta(seconds=2 * k), "duration": 2.0,
                        "discontinuity": False,
                    }
                    for k in range(SEGMENTS)
                ],
            )  # fmt: skip
            folder = data / "recordings" / space_id
            folder.mkdir(parents=True)
            for k in range(SEGMENTS):
                (folder / f"seg-{FIRST + k}.ts").write_bytes(b"\0")
    await database.close()


def stray_file(data: Path, count: int, run: int) -> Path | None:
    """A segment file past the end of the recording looked at last (streams go in order)."""
    if not count:
        return None
    stray = data / "recordings" / f"space{count - 1:06d}" / f"seg-{FIRST + SEGMENTS + run}.ts"
    stray.write_bytes(b"\0")
    return stray


def start_up(data: Path, stray: Path | None) -> tuple[float, float | None]:
    """Seconds from launch to healthy, and to the stray file's deletion."""
    port = free_port()
    env = {
        "PARLEY_DATA_DIR": str(data),
        "PARLEY_PORT": str(port),
        "PARLEY_LOG_LEVEL": "error",
        "PARLEY_CAPTIONS": "off",
        "PATH": "/usr/bin:/bin",
    }
    command = ["taskset", "-c", "0", sys.executable, "-m", "parley.cli", "serve"]
    began = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        healthy = tidied = None
        while time.monotonic() - began < 120:
            if proc.poll() is not None:
                raise SystemExit("the server exited at start-up")
            if healthy is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        healthy = time.monotonic() - began
                except httpx.HTTPError:
                    pass
            if tidied is None and (stray is None or not stray.exists()):
                tidied = time.monotonic() - began
            if healthy is not None and tidied is not None:
                return healthy, None if stray is None else tidied
            time.sleep(0.02)
        raise SystemExit("the server did not start (or look through its archive) in 120 s")
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})  # the server has core 0
    header = (
        "| final recordings (hour-long) | run | healthy after | archive looked through after |\n"
        "|--:|--:|--:|--:|"
    )
    print(header, flush=True)
    rows = []
    for count in (0, args.recordings):
        with tempfile.TemporaryDirectory() as directory:
            data = Path(directory)
            asyncio.run(seed(data, count))
            for run in range(1, args.runs + 1):
                healthy, tidied = start_up(data, stray_file(data, count, run))
                looked = "-" if tidied is None else f"{tidied:.2f} s"
                row = f"| {count:,} | {run} | {healthy:.2f} s | {looked} |"
                print(row, flush=True)
                rows.append(row)
    table = "\n".join([header, *rows])
    if not args.no_record:
        record(
            "A node's start-up and the recordings it keeps",
            f"python -m bench.recording_archive --recordings {args.recordings}",
            table,
        )


if __name__ == "__main__":
    main()
