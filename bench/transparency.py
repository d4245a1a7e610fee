"""What the public transparency report costs to count, as the audit log grows.

    .venv/bin/python -m bench.transparency [--entries 100000 1000000] [--no-record]

`GET /transparency` is public and counts the whole audit log (months of every action of an
instance's life). The database counts it (store/moderation.py `AuditLog.counts`), and a node
counts at most once a minute however many ask (services/transparency.py `REPORT_FRESH`). This
measures one count, uncached, in this process pinned to core 1: wall time, and CPU time of this
process (for SQLite that includes SQLite's own work, done in this process's threads; for
PostgreSQL, its backend's CPU is shown beside it). Entries are spread over 24 months, five
kinds of action, three rules; a fifth are decided appeals, counted apart by outcome.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from bench.common import processes_cpu_seconds, record, scratch_database
from parley.config import Settings
from parley.services.node import Node
from parley.store.moderation import AuditLog
from parley.store.tables import audit_log

ACTIONS = ("suspend", "remove_post", "decide_appeal", "report_dismissed", "appeal")
RULES = ("spam", "hate", None)
BATCH = 5000
CORE = 1
REPEATS = 3


async def _fill(node: Node, entries: int) -> None:
    start, rng = datetime(2025, 1, 1, tzinfo=UTC), random.Random(7)
    step = timedelta(days=730) / entries
    async with node.db.write() as conn:
        for first in range(0, entries, BATCH):
            rows = [
                {
                    "at": start + step * k,
                    "actor_id": None,
                    "action": (action := rng.choice(ACTIONS)),
                    "target_type": "account",
                    "target_id": f"t{k}",
                    "rule": rng.choice(RULES),
                    "reason": "bench",
                    "after": {"decision": rng.choice(("upheld", "overturned"))}
                    if action == "decide_appeal"
                    else None,
                }
                for k in range(first, min(entries, first + BATCH))
            ]
            await conn.execute(insert(audit_log), rows)


async def count_once(kind: str, entries: int) -> str:
    with tempfile.TemporaryDirectory() as data_dir:
        async with scratch_database(kind == "PostgreSQL") as url:
            walls, cpus, backing, lines = await _count(url, data_dir, entries)
    best = min(range(REPEATS), key=lambda k: walls[k])
    return (
        f"| {kind} | {entries:,} | {lines} | {1000 * walls[best]:.0f} | "
        f"{1000 * cpus[best]:.0f} | {1000 * backing[best]:.0f} |"
    )


async def _count(
    url: str, data_dir: str, entries: int
) -> tuple[list[float], list[float], list[float], int]:
    """Wall, CPU and the database's CPU of each of REPEATS counts, and the report's lines."""
    node = Node(Settings(database_url=url, data_dir=data_dir))
    await node.db.migrate()
    try:
        await _fill(node, entries)
        walls, cpus, backing, lines = [], [], [], 0
        for _ in range(REPEATS):
            wall, cpu, db_cpu = (
                time.perf_counter(),
                time.process_time(),
                processes_cpu_seconds(),
            )
            async with node.db.read() as conn:
                lines = len(await AuditLog(conn).counts())
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            backing.append(processes_cpu_seconds() - db_cpu)
    finally:
        await node.db.close()
    return walls, cpus, backing, lines


async def run(sizes: list[int]) -> list[str]:
    rows = []
    for kind in ("SQLite", "PostgreSQL"):
        for entries in sizes:
            row = await count_once(kind, entries)
            print(row, flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    os.sched_setaffinity(0, {CORE})
    header = (
        "| database | audit entries | report lines | one count, wall ms | this process's CPU ms "
        "| PostgreSQL's CPU ms |\n|:--|--:|--:|--:|--:|--:|"
    )
    print(header)
    table = "\n".join([header, *asyncio.run(run(args.entries))])
    table += (
        f"\n\nThe best of {REPEATS} counts each (the database's cache warm). This process "
        f"pinned to core {CORE}; PostgreSQL runs unpinned. Served, the report is counted at "
        "most once a minute per node: every other request in that minute costs no count."
    )
    if not args.no_record:
        sizes = " ".join(str(n) for n in args.entries)
        record(
            "The transparency report's count (bench/transparency.py)",
            f"python -m bench.transparency --entries {sizes}",
            table,
        )


if __name__ == "__main__":
    main()
