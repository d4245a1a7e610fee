"""What a starting node's recorder does with the unfinished recordings in the database: its own
(a crash's leftovers) it reconciles with its files; one another node is making right now (that
node holds the space's home lease) it leaves alone. Nodes that do not share a data directory
would otherwise take that recording's files for lost and drop its whole index; nodes that do
would race its recorder for the segment on its way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from parley.media.recording_store import DurableSegmentStore
from parley.media.segment_store import FileSegmentStore
from parley.services.recorder import Recorder
from parley.store.db import Database
from parley.store.homes import HomeStore
from tests.support.recordings import indexed, recorded_spaces
from tests.support.rows import T0

NOW = T0 + timedelta(minutes=1)
LEASE = timedelta(seconds=10)


async def test_a_starting_node_leaves_alone_a_recording_another_node_is_making(
    migrated_db: Database, tmp_path: Path
) -> None:
    db = migrated_db
    # Each indexed its first segment on the node that recorded it; none of the files is on
    # this node's disk.
    elsewhere, abandoned, own = await recorded_spaces(db, 3)
    async with db.write() as conn:
        homes = HomeStore(conn)
        await homes.claim(elsewhere, "node-a", "http://a", now=NOW, until=NOW + LEASE)
        gone_at = NOW - 5 * LEASE  # a node that died, its lease run out
        await homes.claim(abandoned, "node-gone", "http://gone", now=gone_at, until=gone_at + LEASE)
        await homes.claim(own, "node-b", "http://b", now=NOW, until=NOW + LEASE)
    recorder = Recorder(
        db,
        FileSegmentStore(tmp_path / "hls"),
        DurableSegmentStore(tmp_path / "recordings"),
        retention_days=30,
        clock=lambda: NOW,
        node_id="node-b",
    )
    await recorder.recover()
    assert await indexed(db, elsewhere) == [0]
    # Nobody is making these (the lease ran out, or it is this node's previous life): an index
    # row without its file is dropped, as after a crash here.
    assert await indexed(db, abandoned) == []
    assert await indexed(db, own) == []
