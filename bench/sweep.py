"""What an idle node costs: its sweep, every `sweep_interval_seconds`, with nothing to do.

    .venv/bin/python -m bench.sweep [--seconds 12] [--no-record]

Every node sweeps on its own (DESIGN: presence, lapsed limits and suspensions, held posts,
schedules, link rules, recordings): a dozen questions to the database that almost always find
nothing. A node with no one on it still pays for them, every node of a deployment and every
worker of `serve --workers N`. The server (`parley serve`, nothing on it) is pinned to core 0;
this script only reads /proc. Rows: SQLite and PostgreSQL, at the default interval (1 s) and at
the tests' (0.25 s). The server's CPU is its own process; PostgreSQL's backends are counted
beside it (they run on this machine here, elsewhere in production).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.common import fresh_postgres_database, processes_cpu_seconds, record, server_process

INTERVALS = (1.0, 0.25)
SETTLE_SECONDS = 2.0  # start-up's own work (migrations, the first sweeps) out of the figure


def idle_cpu(seconds: float, interval: float, database: str | None) -> tuple[float, float, int]:
    """% of a core the idle node used, and its database's, and the sweeps it did meanwhile."""
    env = {"PARLEY_SWEEP_INTERVAL_SECONDS": str(interval)}
    if database:
        env["PARLEY_DATABASE_URL"] = database
    with server_process(cpus="0", **env) as server:
        time.sleep(SETTLE_SECONDS)
        before = sweeps(server.base)
        cpu, db_cpu, began = server.cpu_seconds(), processes_cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        took = time.monotonic() - began
        node = (server.cpu_seconds() - cpu) / took
        backing = (processes_cpu_seconds() - db_cpu) / took
        return 100 * node, 100 * backing, sweeps(server.base) - before


def sweeps(base: str) -> int:
    """The node's count of sweeps done, from its metrics."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("parley_sweeps_total "):
            return int(float(line.split()[1]))
    raise SystemExit("the node's /metrics has no parley_sweeps_total")


async def run(seconds: float) -> list[str]:
    rows = []
    for label in ("SQLite", "PostgreSQL"):
        for interval in INTERVALS:
            if label == "SQLite":
                node, backing, done = idle_cpu(seconds, interval, None)
            else:
                async with fresh_postgres_database() as url:
                    node, backing, done = idle_cpu(seconds, interval, url)
            row = f"| {label} | {interval:g} s | {node:.1f} % | {backing:.1f} % | {done} |"
            print(row, flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    header = (
        "| database | sweep interval | idle node's CPU | PostgreSQL's CPU | sweeps |\n"
        "|:--|--:|--:|--:|--:|"
    )
    print(header)
    rows = asyncio.run(run(args.seconds))
    table = "\n".join([header, *rows])
    table += (
        f"\n\nCPU over {args.seconds:g} s of a node with nothing on it (after {SETTLE_SECONDS:g} s"
        " of settling), in % of one core, pinned to core 0."
    )
    if not args.no_record:
        record("An idle node's sweep", f"python -m bench.sweep --seconds {args.seconds:g}", table)


if __name__ == "__main__":
    main()
