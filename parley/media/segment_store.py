"""Where segments live: a small interface (write, read, list, delete) so that object storage can
replace the data directory later, and its implementation on the local file system.

Files are addressed by (stream, name), both checked against a strict pattern here as well as by
the callers: a key can never climb out of the store's root.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar, Protocol

# A write goes to a file named so first (hidden from `names`), renamed into place when whole.
TEMPORARY_PREFIX = ".writing-"
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _checked(part: str) -> str:
    if not _KEY.fullmatch(part) or ".." in part:
        raise ValueError(f"not a storage key: {part!r}")
    return part


class SegmentStore(Protocol):
    """Blocking calls: the segmenter calls them from its own thread, routes through a thread."""

    def write(self, stream: str, name: str, data: bytes) -> None:
        """Store `data` whole: a reader sees the old content, or nothing, or all of the new."""

    def read(self, stream: str, name: str) -> bytes | None: ...

    def names(self, stream: str) -> list[str]: ...

    def delete(self, stream: str, name: str | None = None) -> None:
        """Delete one file, or the whole stream when `name` is None; absent is not an error."""

    def streams(self) -> list[str]: ...


class FileSegmentStore:
    """Segments as files under `root/<stream>/<name>`, written to a temporary file in the same
    directory and renamed into place (rename is atomic on POSIX file systems)."""

    # Whether writes are fsync'd: the file's bytes, then the directory entry the rename made
    # (without the second, a crash may forget the name although the data made it to disk).
    # Recordings are (recording_store.py); live HLS, kept a minute, is not worth the waits.
    durable: ClassVar[bool] = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, stream: str) -> Path:
        return self.root / _checked(stream)

    def write(self, stream: str, name: str, data: bytes) -> None:
        directory = self._dir(stream)
        created = self.durable and not directory.exists()
        directory.mkdir(parents=True, exist_ok=True)
        if created:
            _sync_directory(self.root)
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                if self.durable:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(temporary, directory / _checked(name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        if self.durable:
            _sync_directory(directory)

    def read(self, stream: str, name: str) -> bytes | None:
        try:
            return (self._dir(stream) / _checked(name)).read_bytes()
        except FileNotFoundError:
            return None

    def names(self, stream: str) -> list[str]:
        try:
            names = os.listdir(self._dir(stream))
        except FileNotFoundError:
            return []
        return sorted(n for n in names if not n.startswith("."))

    def delete(self, stream: str, name: str | None = None) -> None:
        if name is None:
            shutil.rmtree(self._dir(stream), ignore_errors=True)
            return
        with contextlib.suppress(FileNotFoundError):
            (self._dir(stream) / _checked(name)).unlink()

    def streams(self) -> list[str]:
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
