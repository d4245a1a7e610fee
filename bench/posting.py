"""Posts per second through API tokens on one node, with the rate limits on; then what a token
posting faster than its limits gets.

    .venv/bin/python -m bench.posting [--seconds 20] [--clients 20] [--no-record]

The server (`parley serve`, on SQLite, then on PostgreSQL with the limits in Redis as several
nodes would run) is pinned to core 0 and this load client to core 1. A
person registers ten bots (the most one may) with two tokens each (scope posts:write); twenty
clients, one per token, post as fast as their answers come back for `--seconds`.

1. Throughput: every limit on, but set high enough that none refuses (posts, token_writes and
   token_writes_account at 100,000/s): the cost of the checks is paid, none bites.
2. Refusals: the default limits (posts 30 per 5 min per account, token_writes 60/min per token,
   token_writes_account 120/min per account) and one token posting flat out: how many get
   through, how the rest are refused (429 with Retry-After, answered half a second late) and
   what the node spends on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bench.common import fresh_postgres_database, percentile, record, server_process
from bench.suspension import REDIS

PASSWORD = "benchmark password"
BOTS = 10
TOKENS_PER_BOT = 2
HIGH = "posts=100000/s,token_writes=100000/s,token_writes_account=100000/s"


@dataclass
class Outcome:
    accepted_ms: list[float] = field(default_factory=list)
    refused_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    refused_by: Counter[str] = field(default_factory=Counter)  # the limit named
    retry_after: list[int] = field(default_factory=list)  # seconds, from the header
    seconds: float = 0.0
    server_cpu: float = 0.0
    load_cpu: float = 0.0


async def tokens(http: httpx.AsyncClient, count: int) -> list[str]:
    body = {"handle": "owner", "password": PASSWORD, "display_name": "Owner"}
    (await http.post("/accounts", json=body)).raise_for_status()
    r = await http.post("/sessions", json={"handle": "owner", "password": PASSWORD})
    r.raise_for_status()
    session: dict[str, str] = {"authorization": f"Bearer {r.json()['token']}"}
    made = []
    for b in range(min(BOTS, count)):
        bot = {"handle": f"bot{b}", "display_name": f"Bot {b}"}
        (await http.post("/me/bots", json=bot, headers=session)).raise_for_status()
    for t in range(count):
        wanted = {"name": f"load {t}", "scopes": ["posts:write"], "bot": f"bot{t % BOTS}"}
        r = await http.post("/me/tokens", json=wanted, headers=session)
        r.raise_for_status()
        made.append(r.json()["token"])
    return made


async def poster(http: httpx.AsyncClient, token: str, until: float, out: Outcome) -> None:
    headers = {"authorization": f"Bearer {token}"}
    n = 0
    while time.monotonic() < until:
        n += 1
        started = time.perf_counter()
        r = await http.post("/posts", json={"text": f"post {n}"}, headers=headers)
        ms = (time.perf_counter() - started) * 1000
        out.statuses[r.status_code] += 1
        if r.status_code == 201:
            out.accepted_ms.append(ms)
        elif r.status_code == 429:
            out.refused_ms.append(ms)
            out.refused_by[str(r.json().get("limit"))] += 1
            out.retry_after.append(int(r.headers.get("retry-after", "0")))


async def run(clients: int, seconds: float, overrides: str | None, **extra: str) -> Outcome:
    env = {"PARLEY_RATE_LIMITS": "on", **extra}
    if overrides:
        env["PARLEY_RATE_LIMIT_OVERRIDES"] = overrides
    out = Outcome()
    with server_process(cpus="0", **env) as server:
        limits = httpx.Limits(max_connections=clients + 2)
        async with httpx.AsyncClient(
            base_url=f"{server.base}/api/v1", timeout=30, limits=limits
        ) as http:
            made = await tokens(http, clients)
            cpu, load_cpu, started = server.cpu_seconds(), time.process_time(), time.monotonic()
            until = started + seconds
            await asyncio.gather(*(poster(http, t, until, out) for t in made))
            out.seconds = time.monotonic() - started
            out.server_cpu = server.cpu_seconds() - cpu
            out.load_cpu = time.process_time() - load_cpu
    return out


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    return f"{percentile(values, 50):.0f} / {percentile(values, 99):.0f}"


def row(name: str, clients: int, out: Outcome) -> str:
    per_second = out.statuses[201] / out.seconds
    statuses = ", ".join(f"{n}× {s}" for s, n in sorted(out.statuses.items()))
    server_cpu, load_cpu = (100 * c / out.seconds for c in (out.server_cpu, out.load_cpu))
    # The machine is shared: the server often gets a fraction of its core, so what a post
    # costs the server is the steadier figure.
    per_cpu = out.statuses[201] / out.server_cpu if out.server_cpu else float("nan")
    return (
        f"| {name} | {clients} | {per_second:.0f} | {per_cpu:.0f} | {_ms(out.accepted_ms)} "
        f"| {_ms(out.refused_ms)} | {statuses} | {server_cpu:.0f}% | {load_cpu:.0f}% |"
    )


async def main_async(seconds: float, clients: int, write: bool) -> None:
    os.sched_setaffinity(0, {1})  # the load on core 1, the server on core 0
    rows = []
    throughput = await run(clients, seconds, HIGH)
    rows.append(
        row("SQLite, limits on (in memory), high enough not to refuse", clients, throughput)
    )
    print(rows[-1], flush=True)
    # Keys of its own in the shared Redis: a sign-up counted under the default prefix would
    # refuse sign-ups from this address to every other server (tests) using it for an hour.
    prefix = f"parley:bench:posting:{secrets.token_hex(4)}:"
    async with fresh_postgres_database() as url:
        shared = await run(
            clients,
            seconds,
            HIGH,
            PARLEY_DATABASE_URL=url,
            PARLEY_REDIS_URL=REDIS,
            PARLEY_RATE_LIMIT_KEY_PREFIX=prefix,
        )
    rows.append(row("PostgreSQL, limits on (in Redis), high enough not to refuse", clients, shared))
    print(rows[-1], flush=True)
    refused = await run(1, seconds, None)
    rows.append(row("SQLite, default limits, one token flat out", 1, refused))
    print(rows[-1], flush=True)
    waits = refused.retry_after
    reasons = ", ".join(f"{n}× by `{why}`" for why, n in refused.refused_by.most_common())
    if waits:
        reasons += f", each with Retry-After {min(waits)} to {max(waits)} s"
    print(f"refusals: {reasons}")
    table = "\n".join(
        [
            f"{seconds:.0f} s per run; server (`parley serve`) on core 0 (`taskset`), "
            "load on core 1, over HTTP/1.1 keep-alive on loopback. Each client posts through an "
            f"API token of its own (ten bots, {TOKENS_PER_BOT} tokens each), as fast as its "
            "answers come back. Latencies in ms, p50 / p99.",
            "",
            "| run | clients (tokens) | posts/s accepted | posts per server CPU-second "
            "| accepted p50 / p99 | refused p50 / p99 | answers | server CPU | load CPU |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Refusals in the second run: {reasons or 'none'}.",
        ]
    )
    if write:
        record("Posting through API tokens (bench/posting.py)", "make bench.posting", table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=BOTS * TOKENS_PER_BOT)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    asyncio.run(main_async(args.seconds, args.clients, not args.no_record))


if __name__ == "__main__":
    main()
