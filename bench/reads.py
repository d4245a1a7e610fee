"""What the API's everyday reads cost a node on SQLite (the default): CPU per request.

    .venv/bin/python -m bench.reads [--requests 300] [--no-record]

The server (`parley serve`, SQLite) is pinned to core 0 and this load client to core 1. A host
opens a live space and a listener joins it; the listener then asks, one request after another,
`--requests` times each: the space, itself (`/me`), the host's profile, the live spaces, and the
space's listeners; then the space again, 25 requests at once. Figures: the server's CPU per
request (all its threads: the reads run in SQLite reader threads) and the load's. Any answer but
200 stops the run: a failed request is not a row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp

from bench.common import ServerProcess, record, server_process, sign_up

CONCURRENT = 25


async def measure(server: ServerProcess, requests: int) -> list[str]:
    api = f"{server.base}/api/v1"
    async with aiohttp.ClientSession() as http:
        host, fan = await sign_up(http, api, ["host", "fan"])
        as_host = {"Authorization": f"Bearer {host}"}
        as_fan = {"Authorization": f"Bearer {fan}"}
        async with http.post(f"{api}/spaces", json={"title": "Reads"}, headers=as_host) as r:
            r.raise_for_status()
            sid = (await r.json())["id"]
        async with http.post(f"{api}/spaces/{sid}/join", headers=as_fan) as r:
            r.raise_for_status()

        async def get(path: str) -> None:
            async with http.get(f"{api}{path}", headers=as_fan) as r:
                if r.status != 200:
                    raise SystemExit(f"GET {path}: {r.status} {await r.text()}")
                await r.read()

        paths = {
            "GET /spaces/{id}": f"/spaces/{sid}",
            "GET /me": "/me",
            "GET /accounts/{handle}": "/accounts/host",
            "GET /spaces?state=live": "/spaces?state=live",
            "GET /spaces/{id}/listeners": f"/spaces/{sid}/listeners",
        }
        rows = []
        for label, path in paths.items():
            for _ in range(20):  # warm: caches, prepared statements, connections
                await get(path)
            rows.append(await _timed(server, label, requests, partial(get, path)))

        async def crowd() -> None:
            await asyncio.gather(*(get(f"/spaces/{sid}") for _ in range(CONCURRENT)))

        label = f"GET /spaces/{{id}}, {CONCURRENT} at once"
        rounds = max(1, requests // CONCURRENT)  # a smoke run asks for fewer than one round
        rows.append(await _timed(server, label, rounds, crowd, CONCURRENT))
        return rows


async def _timed(
    server: ServerProcess,
    label: str,
    rounds: int,
    once: Callable[[], Awaitable[None]],
    per_round: int = 1,
) -> str:
    cpu, load, began = server.cpu_seconds(), time.process_time(), time.monotonic()
    for _ in range(rounds):
        await once()
    count = rounds * per_round
    took = time.monotonic() - began
    server_ms = 1000 * (server.cpu_seconds() - cpu) / count
    load_ms = 1000 * (time.process_time() - load) / count
    row = (
        f"| {label} | {count} | {server_ms:.2f} ms | {1000 * took / count:.2f} ms "
        f"| {load_ms:.2f} ms |"
    )
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})  # the load on core 1, the server on core 0
    header = (
        "| request | requests | server CPU a request | wall a request | load's CPU a request |\n"
        "|:--|--:|--:|--:|--:|"
    )
    print(header)
    with server_process(cpus="0") as server:
        rows = asyncio.run(measure(server, args.requests))
    if not args.no_record:
        table = "\n".join([header, *rows])
        command = f"python -m bench.reads --requests {args.requests}"
        record("The API's everyday reads on SQLite", command, table)


if __name__ == "__main__":
    main()
