"""Where recordings live: the same small storage interface as live HLS (`SegmentStore`), on the
local file system under the data directory, but durable: a segment is on disk, and named in its
directory, before the recorder indexes it. A `kill -9` (or a power cut) then loses only what had
not finished yet. Object storage can replace it behind the same interface.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime

from parley.media.segment_store import TEMPORARY_PREFIX, FileSegmentStore, _checked


class DurableSegmentStore(FileSegmentStore):
    """`FileSegmentStore` whose writes are fsync'd (see `FileSegmentStore.durable`)."""

    durable = True

    def size(self, stream: str, name: str) -> int | None:
        try:
            return (self._dir(stream) / _checked(name)).stat().st_size
        except FileNotFoundError:
            return None

    def drop_unfinished(self, stream: str, written_before: datetime) -> int:
        """Delete the temporary files of writes a crash cut short (older than `written_before`,
        so as not to take one another node is writing into a shared directory); returns how
        many. `names` never lists them, so nothing else would."""
        try:
            entries = list(os.scandir(self._dir(stream)))
        except FileNotFoundError:
            return 0
        cutoff = written_before.timestamp()
        dropped = 0
        for entry in entries:
            if not entry.name.startswith(TEMPORARY_PREFIX):
                continue
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    dropped += 1
        return dropped
