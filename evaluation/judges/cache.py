"""Judge answers cached on disk (SQLite), keyed by a hash of the judge model, its prompt and its parameters."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


def cache_key(*, model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
    """A stable SHA-256 of everything that changes a judge's answer."""
    payload = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class JudgeCache:
    """A key -> raw judge answer table in one SQLite file; re-running an evaluation costs no judge calls."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS judge_answers (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
                         "answer TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")
            conn.commit()
            self._conn = conn
        return self._conn

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._connection().execute("SELECT answer FROM judge_answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return str(row[0])

    def put(self, key: str, *, model: str, answer: str) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("INSERT OR REPLACE INTO judge_answers (key, model, answer) VALUES (?, ?, ?)",
                         (key, model, answer))
            conn.commit()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
