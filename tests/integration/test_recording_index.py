"""A recording's segment is indexed only while the recording is open, checked under its row's lock.
On PostgreSQL two nodes' transactions run together (read committed): without the lock, a
recorder could read the recording open while another node's sweep, in flight, was making it
final, and index a segment after its ENDLIST; or index one a deletion in flight would miss."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from parley.core.recordings import Deletion
from parley.store.db import Database
from parley.store.recordings import RecordingStore
from tests.support.recordings import indexed, recorded_spaces, segment
from tests.support.rows import T0
from tests.support.servers import wait_until


async def waiting_on_a_row(db: Database) -> bool:
    """Whether a transaction of this database waits for another's row lock (PostgreSQL)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    async with db.read() as conn:
        return bool((await conn.execute(query)).scalar())


async def test_a_segment_is_indexed_only_while_its_recording_is_open(
    migrated_db: Database,
) -> None:
    db = migrated_db
    finalized, deleted = await recorded_spaces(db, 2)
    async with db.write() as conn:
        store = RecordingStore(conn)
        await store.finalize(finalized, T0 + timedelta(seconds=5))
        await store.mark_deleted(deleted, Deletion.HOST, None, T0 + timedelta(seconds=5))
    async with db.write() as conn:
        store = RecordingStore(conn)
        assert await store.add_while_open(segment("nope", 1)) is None
        was = await store.add_while_open(segment(finalized, 1))
        assert was is not None and was.finalized and was.deleted_at is None
        was = await store.add_while_open(segment(deleted, 1))
        assert was is not None and was.deleted_at is not None
    assert await indexed(db, finalized) == [0]
    assert await indexed(db, deleted) == []


@pytest.mark.postgres
async def test_a_segment_waits_for_a_finalize_in_flight_and_is_refused(
    postgres_db: Database,
) -> None:
    db = postgres_db
    (space_id,) = await recorded_spaces(db, 1)
    async with db.write() as elsewhere:
        # Another node's sweep makes the recording final; its transaction is still open...
        await RecordingStore(elsewhere).finalize(space_id, T0 + timedelta(seconds=5))

        async def keep() -> bool:
            async with db.write() as conn:
                was = await RecordingStore(conn).add_while_open(segment(space_id, 1))
            return was is not None and was.open

        # ...so this node's recorder waits on the row, rather than reading it open.
        keeping = asyncio.create_task(keep())
        await wait_until(lambda: waiting_on_a_row(db))
        assert not keeping.done()
    assert await keeping is False
    assert await indexed(db, space_id) == [0]


@pytest.mark.postgres
async def test_a_deletion_waits_for_a_segment_being_indexed_and_takes_it_too(
    postgres_db: Database,
) -> None:
    db = postgres_db
    (space_id,) = await recorded_spaces(db, 1)
    async with db.write() as recorder:
        was = await RecordingStore(recorder).add_while_open(segment(space_id, 1))
        assert was is not None and was.open

        async def delete() -> None:
            async with db.write() as conn:
                await RecordingStore(conn).mark_deleted(space_id, Deletion.HOST, None, T0)

        deleting = asyncio.create_task(delete())
        await wait_until(lambda: waiting_on_a_row(db))
        assert not deleting.done()
    await deleting
    assert await indexed(db, space_id) == []
