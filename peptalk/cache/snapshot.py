"""Atomic on-disk snapshots of the cache: one directory per generation, and a pointer file naming the good one.

A save writes `gen-<n>.tmp/` (index, then metadata, each fsynced), renames it to `gen-<n>/`, and only
then replaces `CURRENT` with `os.replace`. A crash at any point leaves `CURRENT` naming the last
complete generation, so index and metadata always load as a matching pair.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from peptalk.cache.errors import SnapshotError

POINTER = "CURRENT"
INDEX_FILE = "index.faiss"
STORE_FILE = "entries.sqlite"
_GENERATION = re.compile(r"^gen-(\d+)$")


@dataclass
class Snapshot:
    """One generation's contents: the serialised FAISS index and the SQLite metadata."""

    index: bytes
    store: bytes


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as sink:
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotDir:
    """The folder holding the cache's generations."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def current(self) -> str | None:
        """The name of the last complete generation, if any."""
        pointer = self.root / POINTER
        if not pointer.is_file():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        if not _GENERATION.match(name):
            raise SnapshotError(f"{pointer} names {name!r}, not a generation")
        return name

    def load(self) -> Snapshot | None:
        """The current generation, or None when nothing was ever saved."""
        name = self.current()
        if name is None:
            return None
        folder = self.root / name
        try:
            return Snapshot(index=(folder / INDEX_FILE).read_bytes(), store=(folder / STORE_FILE).read_bytes())
        except OSError as exc:
            raise SnapshotError(f"generation {folder} is incomplete: {exc}") from exc

    def save(self, snapshot: Snapshot) -> str:
        """Writes a new generation and points `CURRENT` at it; returns its name."""
        self.root.mkdir(parents=True, exist_ok=True)
        current = self.current()
        number = int(_GENERATION.match(current).group(1)) + 1 if current else 1  # type: ignore[union-attr]
        name = f"gen-{number:06d}"
        staging = self.root / f"{name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        _write_file(staging / INDEX_FILE, snapshot.index)
        _write_file(staging / STORE_FILE, snapshot.store)
        _fsync_dir(staging)
        os.replace(staging, self.root / name)
        pointer_tmp = self.root / f"{POINTER}.tmp"
        _write_file(pointer_tmp, name.encode())
        os.replace(pointer_tmp, self.root / POINTER)
        _fsync_dir(self.root)
        self._prune(keep=name)
        return name

    def _prune(self, *, keep: str) -> None:
        """Removes older generations and leftovers of interrupted saves."""
        for path in self.root.iterdir():
            if path.is_dir() and path.name != keep and (_GENERATION.match(path.name) or path.name.endswith(".tmp")):
                shutil.rmtree(path, ignore_errors=True)
