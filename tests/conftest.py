from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.prerequisites import INSTALL, problems_for
from tests.support.servers import drop_postgres_template, fresh_postgres_database, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each API test that asks for it runs once on SQLite and once on a fresh PostgreSQL
    database (integration and security tests)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        async with fresh_postgres_database() as url:
            yield url


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(drop_postgres_template())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests, then stop before running anything if what the collected tests
    need is not on this machine: one message naming all of it, not hundreds of failures."""
    e2e = Path(__file__).parent / "e2e"
    for item in items:
        if e2e in item.path.parents:
            item.add_marker(pytest.mark.browser)
    needed = {mark.name for item in items for mark in item.iter_markers()}
    problems = problems_for(needed)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        pytest.exit(
            f"The tests cannot run on this machine as it is:\n{listed}\n"
            f"Install or start what is missing with: {INSTALL}",
            returncode=3,
        )
