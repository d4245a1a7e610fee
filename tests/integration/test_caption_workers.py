"""Recognizer processes never outlive their node: one killed with SIGKILL cannot tell them to
stop, so each worker notices its parent is gone and exits (a node restarted in a loop would
otherwise pile up idle recognizers, a model's memory each)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from bench.common import server_process
from tests.support.audio import MediaClient
from tests.support.clients import Person


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_killed_nodes_recognizer_processes_exit_with_it() -> None:
    with server_process(PARLEY_CAPTIONS="pocketsphinx") as node:
        host = await Person.sign_up(node.base, "host")
        try:
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Captioned"}))["id"]
            await host.call("POST", f"/spaces/{sid}/unmute", 204)
            # The workers start with the first mixer that needs them.
            voice = await MediaClient.connect(host, sid, tone=440.0)
            deadline = time.monotonic() + 20
            while len(workers := [p for p in node.pids() if p != node.pid]) < 1:
                if time.monotonic() > deadline:
                    # Once in a loaded full run (2026-12-06) and never alone: say what the
                    # node knew, so that the next time tells whether the tap or the pool lagged.
                    said = node.log_path.read_text(errors="replace")[-3000:]
                    figures = (await host.http.get(f"{node.base}/metrics")).text
                    shown = ("parley_captions", "parley_media", "parley_mixer_ticks")
                    captions = [x for x in figures.splitlines() if x.startswith(shown)]
                    pytest.fail(f"no recognizer process started; {captions}; node said: {said}")
                await asyncio.sleep(0.2)
            await voice.close()
        finally:
            await host.close()
        os.kill(node.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, f"recognizers {workers} outlived their node"
            await asyncio.sleep(0.1)


# Run as its own interpreter: what hung was the exit, after the pool had closed.
_STALLED_WORKER = """
import asyncio, os, signal
from parley.core.captions import CaptionEngine
from parley.media.captions.engines import EngineSpec
from parley.media.captions.workers import BYTES_PER_SECOND, RecognizerPool

async def main() -> None:
    pool = RecognizerPool(EngineSpec(CaptionEngine.POCKETSPHINX), workers=1)
    key = pool.begin((), "voice", lambda heard: None)
    worker = pool._processes[0].pid
    os.kill(worker, signal.SIGSTOP)  # a recognizer far behind: it reads nothing more
    second = bytes(BYTES_PER_SECOND)
    while pool.send(key, second):
        pass  # until the pool itself says the worker is too far behind
    await pool.close()
    print("closed", flush=True)

asyncio.run(main())
"""


async def test_a_node_with_a_stalled_recognizer_still_exits() -> None:
    # Seconds of audio queued for a worker that never reads them fill the pipe; closing the pool
    # kills the worker, and the process must then exit, not wait on the queue to drain.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _STALLED_WORKER, stdout=asyncio.subprocess.PIPE
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    except TimeoutError:
        process.kill()
        raise AssertionError("the process hung on its way out after closing the pool") from None
    assert process.returncode == 0 and out.strip() == b"closed", (process.returncode, out)
