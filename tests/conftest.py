from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.servers import fresh_postgres_database, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each API test that asks for it runs once on SQLite and once on a fresh PostgreSQL
    database (integration and security tests)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        async with fresh_postgres_database() as url:
            yield url
