"""The batched writer: commits on size or interval, retries failures, and never loses an acknowledged row."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evaluation.records import ShadowExportRow
from peptalk.db import sqlite_url
from peptalk.shadow import BatchWriter, SqlShadowStore
from tests.helpers import wait_for_async
from tests.peptalk.shadow.test_store_contract import pair


class FlakyStore(SqlShadowStore):
    """A real SQLite store whose first `failures` writes fail, and which refuses any row named `poison`."""

    def __init__(self, path: Path, failures: int = 0) -> None:
        super().__init__(SqlShadowStore.from_url(sqlite_url(path)).engine)
        self.failures = failures
        self.batches: list[int] = []

    def write(self, rows: Sequence[ShadowExportRow]) -> int:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        if any(row.pair_id == "poison" for row in rows):
            raise ValueError("cannot store this row")
        self.batches.append(len(rows))
        return super().write(rows)


async def test_commits_full_batches_at_once_and_the_rest_on_the_interval(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "shadow.db")
    store.migrate()
    writer = BatchWriter(store, batch_size=3, flush_interval_s=60)  # the interval cannot fire during the test
    writer.start()
    for index in range(7):
        writer.add(pair(index))
    await wait_for_async(lambda: store.count() == 6)  # size-triggered: no interval has passed
    assert store.batches == [3, 3] and writer.pending == 1
    await writer.aclose()
    assert store.batches == [3, 3, 1] and writer.committed == 7

    store = FlakyStore(tmp_path / "shadow-interval.db")
    store.migrate()
    writer = BatchWriter(store, batch_size=3, flush_interval_s=0.2)
    writer.start()
    writer.add(pair(7))
    await wait_for_async(lambda: store.count() == 1)  # below the batch size: committed by the interval
    assert store.batches == [1] and writer.pending == 0
    await writer.aclose()


async def test_failed_commits_are_retried_and_a_poison_row_is_dropped_alone(tmp_path: Path) -> None:
    store = FlakyStore(tmp_path / "shadow.db", failures=1)
    store.migrate()
    writer = BatchWriter(store, batch_size=10, flush_interval_s=10, max_attempts=2)
    for index in range(3):
        writer.add(pair(index))
    assert await writer.flush() == 0 and writer.pending == 3  # kept for the next try
    assert await writer.flush() == 3 and store.count() == 3
    writer.add(pair(3))
    writer.add(pair(0).model_copy(update={"pair_id": "poison"}))
    writer.add(pair(4))
    await writer.aclose()  # the last try goes row by row
    assert store.count() == 5 and writer.pending == 0
