"""A legitimate sign-in while 40 clients flood wrong passwords; and what a limit check costs.

    .venv/bin/python -m bench.limits [--seconds 20] [--no-record]

The server (`parley serve`, production argon2 cost: t=3, 64 MiB) is pinned to core 0 and this
load client to core 1. Forty flooders sign in with wrong passwords as fast as their answers come
back, each to a handle of its own choosing, for `--seconds`; meanwhile

- ten owners each sign in every 5 s from the address they used before (the case that must stay
  fast: target p99 ≤ 500 ms), and
- a newcomer signs in every 2 s to her own account, each time from an address never seen.

Scenarios: no flood (argon2 alone), the flood from one address (what the probe did), the flood
from 40 addresses (through a trusted proxy's X-Forwarded-For), and the 40-address flood with the
limits off (only the argon2 gate). A run where a legitimate sign-in fails for a reason other than
an expected refusal counts as a failure, not a row. Then the limiter's own cost per check,
in memory and in Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bench.common import percentile, record, server_process
from parley.core.ratelimit import LimitName, limit_table
from parley.services.ratelimit import MemoryStore, RateLimiter, RedisStore

PASSWORD = "benchmark password"
FLOODERS = 40
# Owners sign in every 5 s each (within the per-address limit), 2 sign-ins a second in all.
OWNERS = 10
OWNER_INTERVAL = 5.0
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Scenario:
    name: str
    flood_addresses: int  # 0: no flood
    limits: bool = True


@dataclass
class Outcome:
    owner_ms: list[float] = field(default_factory=list)
    owner_failures: Counter[int] = field(default_factory=Counter)
    newcomer_ms: list[float] = field(default_factory=list)
    newcomer_statuses: Counter[int] = field(default_factory=Counter)
    flood_statuses: Counter[int] = field(default_factory=Counter)
    server_cpu: float = 0.0
    load_cpu: float = 0.0
    seconds: float = 0.0


async def _sign_in(
    http: httpx.AsyncClient, handle: str, password: str, address: str
) -> tuple[int, float]:
    started = time.perf_counter()
    r = await http.post(
        "/sessions",
        json={"handle": handle, "password": password},
        headers={"X-Forwarded-For": address},
    )
    return r.status_code, (time.perf_counter() - started) * 1000


async def _flooder(
    http: httpx.AsyncClient, i: int, addresses: int, until: float, out: Outcome
) -> None:
    address = f"203.0.113.{1 + i % addresses}"
    attempt = 0
    while time.monotonic() < until:
        attempt += 1
        status, _ = await _sign_in(http, f"target{i}_{attempt % 50}", "wrong guess", address)
        out.flood_statuses[status] += 1


async def _owner(http: httpx.AsyncClient, j: int, until: float, out: Outcome) -> None:
    await asyncio.sleep(j * OWNER_INTERVAL / OWNERS)  # spread out, not in step
    while time.monotonic() < until:
        status, ms = await _sign_in(http, f"owner{j}", PASSWORD, f"198.51.100.{j + 1}")
        if status == 201:
            out.owner_ms.append(ms)
        else:
            out.owner_failures[status] += 1
        await asyncio.sleep(OWNER_INTERVAL)


async def _newcomer(http: httpx.AsyncClient, until: float, out: Outcome) -> None:
    k = 0
    while time.monotonic() < until:
        k += 1
        status, ms = await _sign_in(http, "newcomer", PASSWORD, f"192.0.2.{k}")
        out.newcomer_statuses[status] += 1
        if status == 201:
            out.newcomer_ms.append(ms)
        await asyncio.sleep(2)


async def run(scenario: Scenario, seconds: float) -> Outcome:
    env = {
        "PARLEY_RATE_LIMITS": "on" if scenario.limits else "off",
        "PARLEY_TRUSTED_PROXIES": "127.0.0.1/32",
        "PARLEY_ARGON2_TIME_COST": "3",
        "PARLEY_ARGON2_MEMORY_KIB": "65536",
    }
    out = Outcome()
    with server_process(cpus="0", **env) as server:
        limits = httpx.Limits(max_connections=FLOODERS + 4)
        async with httpx.AsyncClient(
            base_url=f"{server.base}/api/v1", timeout=60, limits=limits
        ) as http:
            for k, handle in enumerate([*(f"owner{j}" for j in range(OWNERS)), "newcomer"]):
                body = {"handle": handle, "password": PASSWORD, "display_name": handle}
                r = await http.post(
                    "/accounts", json=body, headers={"X-Forwarded-For": f"10.9.9.{k}"}
                )
                r.raise_for_status()
            # Each owner has signed in from her address before: it is hers.
            for j in range(OWNERS):
                status, _ = await _sign_in(http, f"owner{j}", PASSWORD, f"198.51.100.{j + 1}")
                assert status == 201, status
            cpu, load_cpu, started = server.cpu_seconds(), time.process_time(), time.monotonic()
            until = started + seconds
            tasks = [_newcomer(http, until, out)]
            tasks += [_owner(http, j, until, out) for j in range(OWNERS)]
            if scenario.flood_addresses:
                tasks += [
                    _flooder(http, i, scenario.flood_addresses, until, out) for i in range(FLOODERS)
                ]
            await asyncio.gather(*tasks)
            out.seconds = time.monotonic() - started
            out.server_cpu = server.cpu_seconds() - cpu
            out.load_cpu = time.process_time() - load_cpu
    # With the limits on, the owner must get in every time; with them off, how she fares is
    # the finding (the row shows her refusals).
    if scenario.limits and (out.owner_failures or not out.owner_ms):
        raise RuntimeError(f"{scenario.name}: the owner's sign-ins failed: {out.owner_failures}")
    return out


async def limiter_cost(checks: int) -> dict[str, float]:
    """Microseconds per check, as a route pays it: one key per account, all allowed."""
    table = limit_table({"posts": "1000000/s"})
    costs = {}
    for name, limiter in (
        ("memory", RateLimiter(table, MemoryStore())),
        ("redis", RateLimiter(table, RedisStore(REDIS_URL, "parley:bench:"))),
    ):
        n = checks if name == "memory" else checks // 20
        started = time.perf_counter()
        for i in range(n):
            await limiter.check(LimitName.POSTS, f"account{i % 1000}")
        costs[name] = (time.perf_counter() - started) / n * 1e6
        await limiter.close()
    return costs


def _ms(values: list[float]) -> str:
    if not values:
        return "none"
    return f"{percentile(values, 50):.0f} / {percentile(values, 99):.0f}"


def _statuses(counts: Counter[int]) -> str:
    return ", ".join(f"{n}× {s}" for s, n in sorted(counts.items())) or "none"


async def main_async(seconds: float, write: bool) -> None:
    os.sched_setaffinity(0, {1})  # the load on core 1, the server on core 0
    scenarios = [
        Scenario("no flood", 0),
        Scenario("flood from 1 address", 1),
        Scenario("flood from 40 addresses", FLOODERS),
        Scenario("flood from 40 addresses, limits off", FLOODERS, limits=False),
    ]
    rows = []
    for scenario in scenarios:
        out = await run(scenario, seconds)
        refused = f", refused {_statuses(out.owner_failures)}" if out.owner_failures else ""
        server_cpu, load_cpu = (100 * c / out.seconds for c in (out.server_cpu, out.load_cpu))
        row = (
            f"| {scenario.name} | {_ms(out.owner_ms)} ({len(out.owner_ms)}){refused} "
            f"| {_ms(out.newcomer_ms)}: {_statuses(out.newcomer_statuses)} "
            f"| {_statuses(out.flood_statuses)} | {server_cpu:.0f}% | {load_cpu:.0f}% |"
        )
        print(row, flush=True)
        rows.append(row)
    costs = await limiter_cost(200_000)
    print(
        f"limiter: {costs['memory']:.1f} µs per check in memory, {costs['redis']:.0f} µs in Redis"
    )
    table = "\n".join(
        [
            f"{FLOODERS} flooders for {seconds:.0f} s each run; server on core 0 (`taskset`), "
            "load on core 1; production argon2 (t=3, 64 MiB). Sign-in latencies in ms, "
            "p50 / p99 (samples).",
            "",
            "| scenario | owners, known addresses | newcomer, new address each time "
            "| flood's answers | server CPU | load CPU |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"The limiter itself: {costs['memory']:.1f} µs per check in memory, "
            f"{costs['redis']:.0f} µs per check in Redis (one round trip of a Lua script, "
            "local Redis).",
        ]
    )
    if write:
        record(
            "Sign-in under a password flood, and the limiter's cost (bench/limits.py)",
            "make bench.limits",
            table,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    asyncio.run(main_async(args.seconds, not args.no_record))


if __name__ == "__main__":
    main()
