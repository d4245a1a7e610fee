"""Where recordings live: the same small storage interface as live HLS (`SegmentStore`), on the
local file system under the data directory, but durable: a segment is on disk, and named in its
directory, before the recorder indexes it. A `kill -9` (or a power cut) then loses only what had
not finished yet. Object storage can replace it behind the same interface.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from parley.media.segment_store import FileSegmentStore, _checked


class DurableSegmentStore(FileSegmentStore):
    """`FileSegmentStore` whose writes are fsync'd: the file's bytes, then the directory entry
    the rename made (without the second, a crash may forget the name although the data made it
    to disk)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)

    def write(self, stream: str, name: str, data: bytes) -> None:
        directory = self._dir(stream)
        created = not directory.exists()
        directory.mkdir(parents=True, exist_ok=True)
        if created:
            _sync_directory(self.root)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".writing-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, directory / _checked(name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_directory(directory)

    def size(self, stream: str, name: str) -> int | None:
        try:
            return (self._dir(stream) / _checked(name)).stat().st_size
        except FileNotFoundError:
            return None


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
