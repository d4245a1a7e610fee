"""The suite's own PostgreSQL databases: those a killed run left behind are dropped by the next
session, never those of a run still going (another xdist worker, another developer)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys

import asyncpg
import pytest

from tests.support.servers import (
    POSTGRES_ADMIN_URL,
    drop_databases_left_behind,
    fresh_postgres_database,
)


@pytest.mark.postgres
async def test_a_gone_runs_databases_are_dropped_and_a_running_ones_kept() -> None:
    ended = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await ended.wait()
    gone = f"parley_test_{ended.pid}_{secrets.token_hex(6)}"
    running = f"parley_test_{os.getpid()}_{secrets.token_hex(6)}"
    async with fresh_postgres_database():  # PostgreSQL is there, the template made
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            for name in (gone, running):
                await admin.execute(f'CREATE DATABASE "{name}"')
            await drop_databases_left_behind(admin)
            # Dropped by this call or by another worker's at the same time: gone either way.
            names = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
            assert gone not in names
            assert running in names
        finally:
            for name in (gone, running):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.close()
