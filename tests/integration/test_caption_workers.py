"""Recognizer processes never outlive their node: one killed with SIGKILL cannot tell them to
stop, so each worker notices its parent is gone and exits (a node restarted in a loop would
otherwise pile up idle recognizers, a model's memory each)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

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
                assert time.monotonic() < deadline, "no recognizer process started"
                await asyncio.sleep(0.2)
            await voice.close()
        finally:
            await host.close()
        os.kill(node.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < deadline, f"recognizers {workers} outlived their node"
            await asyncio.sleep(0.1)
