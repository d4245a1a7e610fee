"""Suspension to the last socket and media connection closed, across two nodes.

Two `parley serve` processes share PostgreSQL and Redis. Each victim joins a live space through
node B, holds its event WebSocket there and (every other one) a WebRTC connection sending
audio; a moderator suspends the victims one by one through node A. For each suspension: the
time from sending the request to the socket's close frame (4401) and to the media connection
closing, as the client sees them. DESIGN.md's target: p99 ≤ 1 s.

    python -m bench.suspension [--victims 40]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription

from bench.common import fresh_postgres_database, percentile, record, server_process
from tests.support.audio import Voice

REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "bench password"
CLI = [sys.executable, "-m", "parley.cli"]


async def sign_up(http: httpx.AsyncClient, handle: str) -> dict[str, str]:
    body = {"handle": handle, "password": PASSWORD, "display_name": handle}
    assert (await http.post("/accounts", json=body)).status_code == 201
    r = await http.post("/sessions", json={"handle": handle, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", "token": r.json()["token"]}


async def media(http: httpx.AsyncClient, sid: str, auth: dict[str, str]) -> RTCPeerConnection:
    pc = RTCPeerConnection()
    pc.addTrack(Voice(440.0))
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    r = await http.post(f"/spaces/{sid}/media", json=offer, headers=_h(auth))
    assert r.status_code == 200, r.text
    await pc.setRemoteDescription(RTCSessionDescription(r.json()["sdp"], "answer"))
    await reach(pc, ("connected",))
    return pc


async def reach(pc: RTCPeerConnection, states: tuple[str, ...]) -> float:
    """Wait for the connection to enter one of `states`; when it did (monotonic seconds)."""
    changed = asyncio.Event()
    pc.on("connectionstatechange", changed.set)
    while pc.connectionState not in states:
        changed.clear()
        await changed.wait()
    return time.monotonic()


def _h(auth: dict[str, str]) -> dict[str, str]:
    return {"Authorization": auth["Authorization"]}


async def closed_at(ws: Any) -> float:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for _ in ws:
            pass
    assert ws.close_code == 4401, ws.close_code
    return time.monotonic()


async def measure(victims: int) -> dict[str, Any]:
    async with fresh_postgres_database() as url:
        env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS}
        with server_process(**env) as a, server_process(**env) as b:
            made = await asyncio.to_thread(
                subprocess.run,
                [*CLI, "admin", "create-user", "mod", "--password", PASSWORD, "--admin"],
                env={**os.environ, **env, "PARLEY_ARGON2_TIME_COST": "1"},
                capture_output=True,
                text=True,
            )
            assert made.returncode == 0, made.stderr
            async with (
                httpx.AsyncClient(base_url=f"{a.base}/api/v1", timeout=30) as on_a,
                httpx.AsyncClient(base_url=f"{b.base}/api/v1", timeout=30) as on_b,
            ):
                r = await on_a.post("/sessions", json={"handle": "mod", "password": PASSWORD})
                mod = {"Authorization": f"Bearer {r.json()['token']}"}
                host = await sign_up(on_b, "host")
                r = await on_b.post("/spaces", json={"title": "Victims"}, headers=_h(host))
                sid = r.json()["id"]
                sockets: list[float] = []
                medias: list[float] = []
                for i in range(victims):
                    who = await sign_up(on_b, f"v{i}")
                    await on_b.post(f"/spaces/{sid}/join", headers=_h(who))
                    ws_url = b.base.replace("http", "ws") + f"/api/v1/spaces/{sid}/events"
                    ws = await websockets.connect(ws_url, additional_headers=_h(who))
                    await ws.recv()  # the snapshot: attached
                    pc = await media(on_b, sid, who) if i % 2 == 0 else None
                    socket_closed = asyncio.create_task(closed_at(ws))
                    media_closed = (
                        asyncio.create_task(reach(pc, ("closed", "failed"))) if pc else None
                    )
                    started = time.monotonic()
                    body = {"rule": "spam", "reason": "Benchmark"}
                    r = await on_a.post(f"/admin/accounts/v{i}/suspend", json=body, headers=mod)
                    assert r.status_code == 200, r.text
                    sockets.append(await asyncio.wait_for(socket_closed, 10) - started)
                    if media_closed is not None and pc is not None:
                        medias.append(await asyncio.wait_for(media_closed, 10) - started)
                        await pc.close()
    to_ms = [1000 * s for s in sockets]
    media_ms = [1000 * s for s in medias]
    return {
        "victims": victims,
        "socket_p50": percentile(to_ms, 50),
        "socket_p99": percentile(to_ms, 99),
        "media_p50": percentile(media_ms, 50),
        "media_p99": percentile(media_ms, 99),
        "last": max(to_ms + media_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--victims", type=int, default=40)
    result = asyncio.run(measure(parser.parse_args().victims))
    line = (
        f"| {result['victims']} | {result['socket_p50']:.0f} | {result['socket_p99']:.0f} | "
        f"{result['media_p50']:.0f} | {result['media_p99']:.0f} | {result['last']:.0f} |"
    )
    header = (
        "| suspensions | socket closed p50 ms | p99 ms | media closed p50 ms | p99 ms "
        "| worst ms |\n"
        "|---:|---:|---:|---:|---:|---:|\n"
    )
    print(header + line)
    record(
        "Suspension to last socket and media closed, across nodes (bench/suspension.py)",
        "python -m bench.suspension",
        header
        + line
        + "\n\nTwo `parley serve` processes on PostgreSQL and Redis, on the same machine as the "
        "clients. Each suspension is requested through node A; the victim's event socket and "
        "(every other victim) WebRTC connection are on node B. Times run from sending the "
        "request to the client seeing its socket closed (4401) and its media connection closed. "
        "Target (DESIGN.md): p99 ≤ 1 s.",
    )


if __name__ == "__main__":
    main()
