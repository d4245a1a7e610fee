"""Where recordings live: the same small storage interface as live HLS (`SegmentStore`), on the
local file system under the data directory, but durable: a segment is on disk, and named in its
directory, before the recorder indexes it. A `kill -9` (or a power cut) then loses only what had
not finished yet. Object storage can replace it behind the same interface.
"""

from __future__ import annotations

from parley.media.segment_store import FileSegmentStore, _checked


class DurableSegmentStore(FileSegmentStore):
    """`FileSegmentStore` whose writes are fsync'd (see `FileSegmentStore.durable`)."""

    durable = True

    def size(self, stream: str, name: str) -> int | None:
        try:
            return (self._dir(stream) / _checked(name)).stat().st_size
        except FileNotFoundError:
            return None
