"""N clients join one space and hold its event WebSocket.

Measures joins per second (`POST /join`, then the WebSocket up to its snapshot), p50/p99 join
latency, the server's CPU time per join, and how long one event takes to reach all N sockets.
The server is a real `parley serve` process (SQLite, in-process bus); the load client (aiohttp,
which parses HTTP and WebSocket frames in C) runs in this process on the same machine.

    python -m bench.joins [--clients 1000 5000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp

from bench.common import percentile, record, server_process

PASSWORD = "benchmark password"


async def _accounts(http: aiohttp.ClientSession, api: str, n: int, limit: int) -> list[str]:
    """Bearer tokens of n new accounts."""
    gate = asyncio.Semaphore(limit)

    async def one(i: int) -> str:
        body = {"handle": f"b{i}", "password": PASSWORD, "display_name": f"b{i}"}
        async with gate:
            async with http.post(f"{api}/accounts", json=body) as r:
                r.raise_for_status()
            async with http.post(f"{api}/sessions", json=body) as r:
                r.raise_for_status()
                return str((await r.json())["token"])

    return await asyncio.gather(*(one(i) for i in range(n)))


class Listener:
    def __init__(self, token: str) -> None:
        self.token = token
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.arrivals: dict[str, float] = {}
        self.reader: asyncio.Task[None] | None = None

    async def join(self, http: aiohttp.ClientSession, api: str, space_id: str) -> float:
        started = time.perf_counter()
        auth = {"Authorization": f"Bearer {self.token}"}
        async with http.post(f"{api}/spaces/{space_id}/join", headers=auth) as r:
            r.raise_for_status()
        url = f"{api}/spaces/{space_id}/events?batch=1"
        self.ws = await http.ws_connect(
            url.replace("http://", "ws://"), autoping=True, headers=auth
        )
        first = json.loads(await self.ws.receive_str())
        assert first["type"] == "snapshot", first
        elapsed = time.perf_counter() - started
        self.reader = asyncio.create_task(self._read())
        return elapsed

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            # With batch=1 a frame is one event or a JSON array of events in order. The cheap
            # substring test keeps the load client from parsing every join event.
            if message.type != aiohttp.WSMsgType.TEXT or "space_updated" not in message.data:
                continue
            parsed = json.loads(message.data)
            for event in parsed if isinstance(parsed, list) else [parsed]:
                if event.get("type") == "space_updated":
                    self.arrivals[event["data"]["title"]] = time.perf_counter()


async def run(n: int, concurrency: int) -> dict[str, float]:
    with server_process() as server:
        api = f"{server.base}/api/v1"
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            host_token, *tokens = await _accounts(http, api, n + 1, concurrency)
            auth = {"Authorization": f"Bearer {host_token}"}
            async with http.post(f"{api}/spaces", json={"title": "bench"}, headers=auth) as r:
                r.raise_for_status()
                space_id = (await r.json())["id"]

            listeners = [Listener(token) for token in tokens]
            gate = asyncio.Semaphore(concurrency)

            async def join(listener: Listener) -> float:
                async with gate:
                    return await listener.join(http, api, space_id)

            cpu_before = server.cpu_seconds()
            started = time.perf_counter()
            latencies = await asyncio.gather(*(join(listener) for listener in listeners))
            join_seconds = time.perf_counter() - started
            cpu_per_join = (server.cpu_seconds() - cpu_before) / n
            await asyncio.sleep(1)  # let the last join events drain

            # One event to everyone: a title change, timed from just before the request.
            fanouts = []
            for attempt in range(3):
                title = f"fan-out {attempt}"
                sent = time.perf_counter()
                async with http.patch(
                    f"{api}/spaces/{space_id}", json={"title": title}, headers=auth
                ) as r:
                    r.raise_for_status()
                deadline = time.perf_counter() + 60
                while sum(title in li.arrivals for li in listeners) < n:
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the event did not reach every client in 60 s")
                    await asyncio.sleep(0.002)
                arrivals = [li.arrivals[title] - sent for li in listeners]
                fanouts.append((percentile(arrivals, 50), percentile(arrivals, 99), max(arrivals)))
                await asyncio.sleep(0.5)
            rss = server.rss_mib()
            for listener in listeners:
                if listener.ws is not None:
                    await listener.ws.close()
    p50, p99, last = sorted(fanouts)[len(fanouts) // 2]
    return {
        "clients": n,
        "joins_per_second": n / join_seconds,
        "join_p50_ms": percentile(latencies, 50) * 1000,
        "join_p99_ms": percentile(latencies, 99) * 1000,
        "server_cpu_ms_per_join": cpu_per_join * 1000,
        "event_all_p50_ms": p50 * 1000,
        "event_all_p99_ms": p99 * 1000,
        "event_all_max_ms": last * 1000,
        "server_rss_mib": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    rows = []
    for n in args.clients:
        r = asyncio.run(run(n, args.concurrency))
        print(json.dumps(r))
        rows.append(
            f"| {n:,} | {r['joins_per_second']:.0f} | {r['join_p50_ms']:.0f} | "
            f"{r['join_p99_ms']:.0f} | {r['server_cpu_ms_per_join']:.2f} | "
            f"{r['event_all_p50_ms']:.0f} | {r['event_all_p99_ms']:.0f} | "
            f"{r['event_all_max_ms']:.0f} | {r['server_rss_mib']:.0f} |"
        )
    table = "\n".join(
        [
            "| clients | joins/s | join p50 ms | join p99 ms | server CPU ms/join "
            "| event to all p50 ms | p99 ms | last ms | server RSS MiB |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    record(
        "Joins and fan-out (bench/joins.py)",
        "python -m bench.joins --clients " + " ".join(map(str, args.clients)),
        table + "\n\nOne server process (SQLite, in-process bus) and the load client share the "
        "machine's cores. A join is `POST /join` plus the event WebSocket (`batch=1`) up to its "
        f'snapshot, {args.concurrency} at a time. "Event to all" is a title change, from '
        "just before the PATCH to its arrival at each socket (median of three). Targets "
        "(DESIGN.md): ≥ 500 joins/s per node; one event to 10,000 clients p99 ≤ 500 ms.",
    )


if __name__ == "__main__":
    main()
