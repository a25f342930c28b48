"""The cache metadata in SQLite: an in-memory database while serving, serialised whole into snapshots."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from peptalk.cache.base import CacheEntry, CacheStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    scope TEXT NOT NULL,
    model TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cache_entries_lookup ON cache_entries (key, content_hash);
CREATE INDEX IF NOT EXISTS cache_entries_lru ON cache_entries (last_used_at);
CREATE INDEX IF NOT EXISTS cache_entries_age ON cache_entries (created_at);
"""
COLUMNS = "id, key, scope, model, content_hash, text, created_at, last_used_at, hits"


def _entry(row: tuple) -> CacheEntry:
    entry_id, key, scope, model, content_hash, text, created_at, last_used_at, hits = row
    return CacheEntry(key=key, scope=scope, model=model, content_hash=content_hash, text=text,
                      created_at=created_at, last_used_at=last_used_at, hits=hits, id=entry_id)


class SqliteCacheStore(CacheStore):
    """Cache entries in an SQLite database held in memory; `to_bytes` is the database file itself."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")  # deleted (erased) entries must not linger in snapshots
        self._db.executescript(SCHEMA)

    def add(self, entry: CacheEntry) -> int:
        cursor = self._db.execute(
            "INSERT INTO cache_entries (key, scope, model, content_hash, text, created_at, last_used_at, hits)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.key, entry.scope, entry.model, entry.content_hash, entry.text, entry.created_at,
             entry.last_used_at, entry.hits),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get(self, ids: Sequence[int]) -> dict[int, CacheEntry]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT {COLUMNS} FROM cache_entries WHERE id IN ({marks})", list(ids))
        return {row[0]: _entry(row) for row in rows}

    def find(self, key: str, content_hash: str) -> list[int]:
        rows = self._db.execute("SELECT id FROM cache_entries WHERE key = ? AND content_hash = ?", (key, content_hash))
        return [row[0] for row in rows]

    def touch(self, entry_id: int, now: float) -> None:
        self._db.execute("UPDATE cache_entries SET hits = hits + 1, last_used_at = ? WHERE id = ?", (now, entry_id))

    def delete(self, ids: Sequence[int]) -> None:
        self._db.executemany("DELETE FROM cache_entries WHERE id = ?", [(entry_id,) for entry_id in ids])

    def in_scope(self, scope: str) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT id FROM cache_entries WHERE scope = ?", (scope,))]

    def least_recently_used(self, n: int) -> list[int]:
        rows = self._db.execute("SELECT id FROM cache_entries ORDER BY last_used_at, id LIMIT ?", (n,))
        return [row[0] for row in rows]

    def created_before(self, when: float) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT id FROM cache_entries WHERE created_at < ?", (when,))]

    def ids(self) -> set[int]:
        return {row[0] for row in self._db.execute("SELECT id FROM cache_entries")}

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM cache_entries").fetchone()[0])

    def to_bytes(self) -> bytes:
        return bytes(self._db.serialize())

    def load_bytes(self, data: bytes) -> None:
        self._db.deserialize(data)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.executescript(SCHEMA)  # also checks that the data is an SQLite database
