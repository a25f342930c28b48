"""Cache entries in peptalk's database (SQLite in WAL mode by default, PostgreSQL by URL), shared by every app
process that uses the same database; the same code for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import (JSON, Column, Connection, Engine, Float, Index, Integer, LargeBinary, MetaData, Select, String,
                        Table, Text, bindparam, delete, func, insert, select, update)
from sqlalchemy.exc import SQLAlchemyError

from peptalk.cache.base import CacheEntry, CacheStore, IndexRow, Stored
from peptalk.cache.canonical import CanonicalContent
from peptalk.cache.errors import CacheStoreError
from peptalk.db import make_engine, upgrade

# Mirrors migration cache_0001; change both together (with a new revision). `vectors` and `summary` are empty
# (b"") until the background worker computed them: NOT NULL stays, so no migration was needed.
metadata = MetaData()
cache_entries = Table(
    "cache_entries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("scope", String(160), nullable=False),
    Column("model", String(256), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("request", JSON, nullable=False),
    Column("canonical", JSON, nullable=False),
    Column("items", JSON, nullable=False),
    Column("vectors", LargeBinary, nullable=False),
    Column("summary", LargeBinary, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Column("hits", Integer, nullable=False, server_default="0"),
    Index("ix_cache_entries_key_content", "key", "content_hash"),
    Index("ix_cache_entries_last_used_at", "last_used_at"),
    Index("ix_cache_entries_created_at", "created_at"),
)
cache_audits = Table(
    "cache_audits", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("entry_id", Integer, nullable=False),
    Column("scope", String(160), nullable=False),
    Column("model", String(256), nullable=False),
    Column("similarity", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("stored_request", JSON, nullable=False),
    Column("new_request", JSON, nullable=False),
    Column("cached_text", Text, nullable=False),
    Column("fresh_text", Text),
    Column("fresh_model", String(256)),
    Column("error", Text),
    Index("ix_cache_audits_created_at", "created_at"),
)
_INDEX_COLUMNS = (cache_entries.c.id, cache_entries.c.key, cache_entries.c.canonical, cache_entries.c.summary)
# The statements of every miss, built once (building one costs more than SQLite running it).
_SAME_REQUEST = (cache_entries.c.key == bindparam("key")) & (cache_entries.c.content_hash == bindparam("content_hash"))
_FIND = select(cache_entries).where(_SAME_REQUEST)
_FIND_IDS = select(cache_entries.c.id).where(_SAME_REQUEST)
_LOWEST_ID = select(func.min(cache_entries.c.id))
_INSERT = insert(cache_entries).returning(cache_entries.c.id)


def canonical_json(content: CanonicalContent) -> dict[str, Any]:
    return {"today": content.today, "last_login": content.last_login, "lists": [list(items) for items in content.lists]}


def canonical_from(data: dict[str, Any]) -> CanonicalContent:
    return CanonicalContent(today=data["today"], last_login=data["last_login"],
                            lists=tuple(tuple(items) for items in data["lists"]))


NOT_COMPUTED = b""  # `vectors` and `summary` of an entry whose vectors the background worker has not written yet


def _vectors(data: bytes, rows: int) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32).reshape(rows, -1) if rows else np.empty((0, 0), np.float32)


def _summary(data: bytes) -> np.ndarray | None:
    return np.frombuffer(data, np.float32) if data else None


def _blob(vectors: np.ndarray | None) -> bytes:
    return NOT_COMPUTED if vectors is None else np.ascontiguousarray(vectors, np.float32).tobytes()


def _entry(row: Any) -> CacheEntry:
    summary = _summary(row.summary)
    return CacheEntry(key=row.key, scope=row.scope, model=row.model, content_hash=row.content_hash,
                      request=row.request, canonical=canonical_from(row.canonical), items=list(row.items),
                      vectors=None if summary is None else _vectors(row.vectors, len(row.items)), summary=summary,
                      text=row.text, created_at=row.created_at, last_used_at=row.last_used_at, hits=row.hits,
                      id=row.id)


def _row(entry: CacheEntry) -> dict[str, Any]:
    return {"key": entry.key, "scope": entry.scope, "model": entry.model, "content_hash": entry.content_hash,
            "request": entry.request, "canonical": canonical_json(entry.canonical), "items": entry.items,
            "vectors": _blob(entry.vectors if entry.summary is not None else None), "summary": _blob(entry.summary),
            "text": entry.text, "created_at": entry.created_at, "last_used_at": entry.last_used_at, "hits": entry.hits}


class SqlCacheStore(CacheStore):
    """`CacheStore` on any SQLAlchemy engine peptalk supports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.local = engine.dialect.name == "sqlite"

    @classmethod
    def from_url(cls, url: str) -> SqlCacheStore:
        return cls(make_engine(url))

    def migrate(self) -> None:
        """Brings the tables up to date (another process migrating the same database at once waits its turn)."""
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise CacheStoreError(f"cannot migrate {self.engine.url.render_as_string()}: {exc}") from exc

    def add(self, entry: CacheEntry) -> int:
        with self.engine.begin() as connection:
            return self._insert(connection, entry)

    @staticmethod
    def _insert(connection: Connection, entry: CacheEntry) -> int:
        return int(connection.execute(_INSERT, _row(entry)).scalar_one())

    def put(self, entry: CacheEntry, *, uses: dict[int, tuple[int, float]], capacity: int) -> Stored:
        with self.engine.begin() as connection:
            self._touch(connection, uses)  # so that eviction sees the latest uses
            replaced = list(connection.scalars(_FIND_IDS, {"key": entry.key, "content_hash": entry.content_hash}))
            self._delete(connection, replaced)
            entry_id = self._insert(connection, entry)
            # Ids only grow, so there are at most max - min + 1 entries: two index ends, where a count reads them all.
            lowest = int(connection.scalar(_LOWEST_ID) or entry_id)
            if entry_id - lowest + 1 <= capacity:
                return Stored(entry_id, replaced, None)
            size = int(connection.scalar(select(func.count()).select_from(cache_entries)) or 0)
            evicted = list(connection.scalars(self._lru(size - capacity))) if size > capacity else []
            self._delete(connection, evicted)
        return Stored(entry_id, replaced + evicted, size - len(evicted))

    def set_vectors(self, vectors: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[int]:
        if not vectors:
            return []
        statement = (update(cache_entries).where(cache_entries.c.id == bindparam("entry_id"))
                     .values(vectors=bindparam("item_vectors"), summary=bindparam("summary_vector")))
        with self.engine.begin() as connection:
            present = list(connection.scalars(select(cache_entries.c.id).where(cache_entries.c.id.in_(list(vectors)))))
            if present:
                connection.execute(statement, [{"entry_id": entry_id, "item_vectors": _blob(vectors[entry_id][0]),
                                                "summary_vector": _blob(vectors[entry_id][1])} for entry_id in present])
        return present

    def summaries(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        query = select(cache_entries.c.id, cache_entries.c.summary).where(
            cache_entries.c.id.in_(list(ids)), func.length(cache_entries.c.summary) > 0)
        with self.engine.connect() as connection:
            return {row.id: np.frombuffer(row.summary, np.float32) for row in connection.execute(query)}

    def get(self, ids: Sequence[int]) -> dict[int, CacheEntry]:
        if not ids:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(select(cache_entries).where(cache_entries.c.id.in_(list(ids)))).all()
        return {row.id: _entry(row) for row in rows}

    def find(self, key: str, content_hash: str) -> list[CacheEntry]:
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(_FIND, {"key": key, "content_hash": content_hash})]

    def since(self, after_id: int, limit: int = 10_000) -> list[IndexRow]:
        query = select(*_INDEX_COLUMNS).where(cache_entries.c.id > after_id).order_by(cache_entries.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [IndexRow(row.id, row.key, canonical_from(row.canonical), _summary(row.summary))
                    for row in connection.execute(query)]

    def touch(self, uses: dict[int, tuple[int, float]]) -> None:
        if uses:
            with self.engine.begin() as connection:
                self._touch(connection, uses)

    def _touch(self, connection: Connection, uses: dict[int, tuple[int, float]]) -> None:
        if not uses:
            return
        statement = (update(cache_entries).where(cache_entries.c.id == bindparam("entry_id"))
                     .values(hits=cache_entries.c.hits + bindparam("count"),
                             last_used_at=func.max(cache_entries.c.last_used_at, bindparam("at"))
                             if self.engine.dialect.name == "sqlite"
                             else func.greatest(cache_entries.c.last_used_at, bindparam("at"))))
        connection.execute(statement, [{"entry_id": entry_id, "count": count, "at": at}
                                       for entry_id, (count, at) in uses.items()])

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            with self.engine.begin() as connection:
                self._delete(connection, ids)

    @staticmethod
    def _delete(connection: Connection, ids: Sequence[int]) -> None:
        if ids:
            connection.execute(delete(cache_entries).where(cache_entries.c.id.in_(list(ids))))

    def in_scope(self, scope: str) -> list[int]:
        with self.engine.connect() as connection:
            return list(connection.scalars(select(cache_entries.c.id).where(cache_entries.c.scope == scope)))

    def forget_scope(self, scope: str) -> int:
        """Deletes every entry and every audit case stored under `scope` (erasure of one user); returns how many."""
        with self.engine.begin() as connection:
            entries = connection.execute(delete(cache_entries).where(cache_entries.c.scope == scope)).rowcount
            audits = connection.execute(delete(cache_audits).where(cache_audits.c.scope == scope)).rowcount
        return int(entries or 0) + int(audits or 0)

    def least_recently_used(self, n: int) -> list[int]:
        with self.engine.connect() as connection:
            return list(connection.scalars(self._lru(n)))

    @staticmethod
    def _lru(n: int) -> Select[Any]:
        return select(cache_entries.c.id).order_by(cache_entries.c.last_used_at, cache_entries.c.id).limit(n)

    def created_before(self, when: float) -> list[int]:
        with self.engine.connect() as connection:
            return list(connection.scalars(select(cache_entries.c.id).where(cache_entries.c.created_at < when)))

    def ids(self) -> set[int]:
        with self.engine.connect() as connection:
            return set(connection.scalars(select(cache_entries.c.id)))

    def __len__(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(cache_entries)) or 0)

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["SqlCacheStore", "cache_audits", "cache_entries", "canonical_from", "canonical_json"]
