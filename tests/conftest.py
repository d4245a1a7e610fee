from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytest_asyncio import is_async_test

from parley.store.db import Database
from tests.support.prerequisites import INSTALL, problems_for
from tests.support.servers import (
    ServerThread,
    drop_postgres_template,
    fresh_postgres_database,
    serve,
    sqlite_url,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each API test that asks for it runs once on SQLite and once on a fresh PostgreSQL
    database (integration and security tests)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        async with fresh_postgres_database() as url:
            yield url


@pytest.fixture
async def postgres_db() -> AsyncIterator[Database]:
    """The database layer on a fresh, migrated PostgreSQL database of its own, for store tests
    that only PostgreSQL can show (asyncpg's own path, transactions in flight together). Tests
    using it carry the `postgres` mark."""
    async with fresh_postgres_database() as url, migrated(url) as database:
        yield database


@pytest.fixture
async def migrated_db(database_url: str) -> AsyncIterator[Database]:
    """The database layer on a fresh, migrated database, once SQLite and once PostgreSQL."""
    async with migrated(database_url) as database:
        yield database


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    """A node with the tests' settings on `database_url`, serving in a thread of this process.
    A module whose tests need other settings, or no database of the fixture's, has its own."""
    with serve(database_url=database_url) as running:
        yield running


@contextlib.asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    database = Database(url)
    try:
        await database.migrate()
        yield database
    finally:
        await database.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    asyncio.run(drop_postgres_template())


# `make test` runs the tests on three pytest-xdist workers (`-n 3 --dist loadgroup`) on the two
# cores it was tuned on: most tests wait on servers, sockets and timers, not on a core. A group's
# tests all run on one worker, one after another, and every other test wherever there is room.
# - "audio": the tests that hold live audio to deadlines (a mute silent within so many ms, in a
#   browser or at aiortc listeners), measured with one of them running at once.
# - "browser": the other browser tests (the web client's screens, replay, captions, HLS): each
#   starts several Chromiums, and two such tests at once starve each other's pages.
# The Redis tests need no group: each deployment has a database and rate-limit keys of its own,
# what they publish on the shared channels names random ids (accounts, spaces, nodes) or a link
# rule for a host no other test checks (both.example), and test_bus kills only the connection
# it named.
AUDIO_FILES = {
    "e2e/test_live_audio.py",  # a mute silent in the listener's browser within a deadline
    "integration/test_captions.py",
    "integration/test_hls.py",
    "integration/test_media.py",
    "integration/test_relay.py",  # across nodes, a mute silent at relayed listeners in 500 ms
    "security/test_media_offers.py",
    "security/test_turn_credentials.py",
    "unit/test_mixer.py",
}


def _xdist_group(item: pytest.Item, tests: Path) -> str | None:
    where = item.path.relative_to(tests).as_posix()
    if where in AUDIO_FILES:
        return "audio"
    if item.get_closest_marker("browser"):
        return "browser"
    return None


# Outside the groups, the files whose tests take a quarter of a minute or more each, run first,
# slowest first (figures of a `--durations=0` run): pytest-xdist hands tests out in collection
# order, and one of these begun last kept one worker busy long after the other had run out.
SLOW_FILES = (
    "integration/test_transcripts.py",
    "integration/test_recordings.py",
    "integration/test_cli.py",
    "integration/test_dead_node_presence.py",
    "integration/test_join_rush.py",
    "unit/test_space_properties.py",
    "integration/test_links.py",
    "integration/test_recording_moderation.py",
    "security/test_sessions.py",
    "integration/test_hls_edge.py",
    "integration/test_workers.py",
    "integration/test_caption_workers.py",
)


def _slow_first(item: pytest.Item, tests: Path) -> int:
    where = item.path.relative_to(tests).as_posix()
    return SLOW_FILES.index(where) if where in SLOW_FILES else len(SLOW_FILES)


# First: pytest-xdist reads the xdist_group marks in a hook of its own.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests and each test's xdist group, put the slowest files first, then
    stop before running anything if what the collected tests need is not on this machine: one
    message naming all of it, not hundreds of failures."""
    tests = Path(__file__).parent
    items.sort(key=lambda item: _slow_first(item, tests))  # stable: the rest keep their order
    for item in items:
        if tests / "e2e" in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if is_async_test(item):
                # The loop the process's one Playwright driver lives in (tests/e2e/conftest.py);
                # first, ahead of the mark asyncio_mode=auto gave every coroutine test.
                item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)
        group = _xdist_group(item, tests)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    needed = {mark.name for item in items for mark in item.iter_markers()}
    problems = problems_for(needed)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        message = (
            f"The tests cannot run on this machine as it is:\n{listed}\n"
            f"Install or start what is missing with: {INSTALL}"
        )
        if hasattr(config, "workerinput"):
            # A pytest-xdist worker that exits here looks like a crash; one that runs nothing
            # and asks to stop has its controller stop the run with this message.
            items[0].session.shouldstop = message
            items.clear()
            return
        pytest.exit(message, returncode=3)


class _XdistGroupRename:
    """pytest-xdist (3.8) sends a group to one worker by renaming its tests `nodeid@group`,
    which pytest 9.2 no longer lets it do (pytest-dev/pytest-xdist#1386): the tests would be
    spread as if ungrouped. Until a release fixes it, the rename is done here, after xdist's
    own attempt and only where that attempt did not take."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if not config.getvalue("loadgroup"):
            return
        for item in items:
            mark = item.get_closest_marker("xdist_group")
            if mark is None or not hasattr(item, "_id"):
                continue
            suffix = f"@{mark.args[0]}"
            if not item.nodeid.endswith(suffix):
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(item.nodeid + suffix)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(_XdistGroupRename(), "parley-xdist-group-rename")
