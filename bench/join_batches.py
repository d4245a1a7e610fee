"""A join rush's transactions alone: CPU per join of `JoinService`'s batches, no HTTP, no sockets.

`bench/joins.py` measures a join end to end (HTTP, the event socket, fan-out), and on this shared
two-core machine its figures move by a third from one run to the next with the other work on the
host. This one measures the part a database change moves: joins queued in waves of `--wave` (as a
rush's batches are, about a dozen joins each), each batch one transaction that loads the space,
decides and writes the participants, events and socket counts (`services/joins.py`). CPU time of
this one process, pinned to core 1, so the figure holds on a busy machine; on PostgreSQL the
server's own CPU is not in it (on SQLite the database is in this process, and is).

    python -m bench.join_batches [--joins 3000] [--wave 12]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass

from bench.common import record, scratch_database
from parley.config import Settings
from parley.core.accounts import Account
from parley.services.accounts import Caller
from parley.services.common import new_id
from parley.services.joins import Joining
from parley.services.node import Node
from parley.store.accounts import AccountStore

# The first joins of a run prepare statements on each new pooled connection: not measured.
WARM_UP = 24
# bench/joins.py's load core: the server's core stays free for PostgreSQL.
CORE = 1


@dataclass(frozen=True)
class Figures:
    joins: int
    batches: int
    cpu_ms_per_join: float
    joins_per_second: float


async def _accounts(node: Node, n: int) -> list[Account]:
    made = []
    async with node.db.write() as conn:
        store = AccountStore(conn)
        for k in range(n):
            account = await store.create(
                id=new_id(),
                handle=f"j{k}",
                display_name=f"Joiner {k}",
                password_hash="not used",
                is_admin=False,
                now=node.clock.now(),
            )
            assert account is not None
            made.append(account)
    return made


async def measure(kind: str, joins: int, wave: int) -> Figures:
    async with scratch_database(kind == "postgres") as url:
        with tempfile.TemporaryDirectory() as data:
            node = Node(Settings(database_url=url, data_dir=data))
            try:
                await node.db.migrate()
                host, *joiners = await _accounts(node, joins + WARM_UP + 1)
                view = await node.spaces.create(Caller(host, "bench"), title="A rush")
                space_id = view.space.id

                async def join(accounts: list[Account]) -> None:
                    await asyncio.gather(
                        *(
                            node.joins.batches.submit(space_id, Joining(a.id, a.handle, True))
                            for a in accounts
                        )
                    )

                await join(joiners[:WARM_UP])
                batches_before = node.joins.batches.batches_run
                measured = joiners[WARM_UP:]
                started, cpu = time.perf_counter(), time.process_time()
                for start in range(0, len(measured), wave):
                    await join(measured[start : start + wave])
                cpu = time.process_time() - cpu
                elapsed = time.perf_counter() - started
                return Figures(
                    joins=len(measured),
                    batches=node.joins.batches.batches_run - batches_before,
                    cpu_ms_per_join=1000 * cpu / len(measured),
                    joins_per_second=len(measured) / elapsed,
                )
            finally:
                await node.joins.close()
                await node.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--joins", type=int, default=3000)
    parser.add_argument("--wave", type=int, default=12)
    parser.add_argument("--database", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    os.sched_setaffinity(0, {CORE})
    rows = []
    for kind in args.database:
        f = asyncio.run(measure(kind, args.joins, args.wave))
        print(f"{kind}: {f}")
        rows.append(
            f"| {kind} | {f.joins:,} | {f.batches} | {f.cpu_ms_per_join:.3f} "
            f"| {f.joins_per_second:,.0f} | {os.getloadavg()[0]:.1f} |"
        )
    table = "\n".join(
        [
            "| database | joins | batches | CPU ms per join | joins/s (wall) | load avg |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    record(
        "Join transactions alone (bench/join_batches.py)",
        f"python -m bench.join_batches --joins {args.joins} --wave {args.wave}",
        table
        + f"\n\nCPU time of the one process running the joins (pinned to core {CORE}), per join, "
        f"in waves of {args.wave}: the space's load, the decision, its writes and the socket "
        "counts, without HTTP or sockets. On PostgreSQL the server's own CPU is not in it; "
        "*joins/s* is then bounded by round trips to it, not by this process.",
    )


if __name__ == "__main__":
    main()
