"""One contract for the comparison log, run on SQLite (WAL) and on a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluation.records import CallRecord, ShadowExportRow
from peptalk.db import current_revisions, sqlite_url
from peptalk.shadow import SqlShadowStore
from peptalk.shadow import store as store_module

NOW = dt.datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlShadowStore]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "shadow.db")
    else:
        url = request.getfixturevalue("postgres_database")
    shadow_store = SqlShadowStore.from_url(url)
    shadow_store.migrate()
    yield shadow_store
    shadow_store.close()


def call(model: str, *, latency_s: float = 0.5, error: str | None = None, **extra: object) -> CallRecord:
    return CallRecord(model=model, response=None if error else f"answer of {model}", error=error,
                      latency_s=latency_s, ttft_s=latency_s / 10, input_tokens=120, output_tokens=33,
                      started_at=NOW, source="shadow", usage_source="backend", **extra)


def pair(index: int, *, created_at: dt.datetime = NOW, candidates: int = 2, **primary: object) -> ShadowExportRow:
    return ShadowExportRow(
        pair_id=f"pair-{index:05d}", request_id=f"req-{index}", created_at=created_at, user_id=f"user-{index}",
        request={"user_id": f"user-{index}", "today": "2026-11-22", "goals": ["Ship the beta", "Sleep"]},
        prompt=f"Write a pep talk number {index}.",
        primary=call("embedded:smollm2-135m", **primary),  # type: ignore[arg-type]
        candidates=[call(f"openai:candidate-{slot}", latency_s=1.0 + slot) for slot in range(candidates)],
    )


def test_rows_round_trip_with_every_field(store: SqlShadowStore) -> None:
    truncated = pair(4, truncated=True).model_copy(update={"template_version": "slam@0123456789ab"})
    rows = [pair(1, cache_hit=True), pair(2, candidates=0), pair(3, error="BackendUnavailable: refused"), truncated]
    assert store.write(rows) == 4
    assert [row.model_dump() for row in store.read()] == [row.model_dump() for row in rows]
    assert "shadow_0002" in current_revisions(store.engine)


def test_writes_are_idempotent_on_the_pair_id(store: SqlShadowStore) -> None:
    assert store.write([pair(1), pair(2), pair(1)]) == 2
    assert store.write([pair(2), pair(3)]) == 1  # a retried batch that had already committed
    assert store.count() == 3
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(store_module.shadow_calls)) == 9


def test_garbage_text_is_stored_cleaned(store: SqlShadowStore) -> None:
    row = pair(1)
    row.primary.response = "ok\x00 then \ud800 broken"
    row.prompt = "prompt with NUL\x00"
    store.write([row])
    [back] = store.read()
    assert back.primary.response == "ok\ufffd then ? broken" and back.prompt == "prompt with NUL\ufffd"


def test_read_pages_in_order_and_filters_by_time(store: SqlShadowStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PAGE", 4)
    rows = [pair(index, created_at=NOW + dt.timedelta(minutes=index % 5)) for index in range(11)]
    store.write(rows)
    read = list(store.read())
    assert sorted(row.pair_id for row in read) == sorted(row.pair_id for row in rows) and len(read) == 11
    assert [row.created_at for row in read] == sorted(row.created_at for row in rows)
    since = NOW + dt.timedelta(minutes=3)
    assert {row.pair_id for row in store.read(since=since)} == {row.pair_id for row in rows if row.created_at >= since}
    assert store.count(since=since) == 4
    local = since.astimezone(dt.timezone(dt.timedelta(hours=-5)))  # any time zone means the same instant
    assert store.count(since=local) == 4


def test_stats_give_volume_errors_and_percentiles(store: SqlShadowStore) -> None:
    rows = [pair(index, latency_s=0.1 * (index + 1), candidates=1) for index in range(10)]
    rows.append(pair(10, error="BackendUnavailable: timeout", candidates=1))
    store.write(rows)
    stats = {(entry.role, entry.model): entry for entry in store.stats()}
    primary = stats[("primary", "embedded:smollm2-135m")]
    assert (primary.calls, primary.errors) == (11, 1)
    assert primary.error_rate == pytest.approx(1 / 11)
    assert primary.latency_p50_s == pytest.approx(0.55)
    assert primary.latency_p95_s == pytest.approx(0.955)
    candidate = stats[("candidate", "openai:candidate-0")]
    assert (candidate.calls, candidate.errors, candidate.latency_p50_s) == (11, 0, 1.0)
    assert list(stats)[0][0] == "primary"


def test_prune_deletes_old_pairs_and_their_calls(store: SqlShadowStore) -> None:
    store.write([pair(1, created_at=NOW - dt.timedelta(days=40)), pair(2, created_at=NOW - dt.timedelta(days=31)),
                 pair(3, created_at=NOW - dt.timedelta(days=1))])
    assert store.prune(NOW - dt.timedelta(days=30)) == 2
    assert [row.pair_id for row in store.read()] == ["pair-00003"]
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(store_module.shadow_calls)) == 3
    assert store.prune(NOW - dt.timedelta(days=30)) == 0


def test_migrate_is_idempotent(store: SqlShadowStore) -> None:
    store.write([pair(1)])
    store.migrate()
    assert store.count() == 1


def test_delete_users_removes_their_pairs_and_calls_only(store: SqlShadowStore) -> None:  # issue 19: erasure
    store.write([pair(1), pair(2), pair(3)])
    assert store.delete_users(["user-1", "user-3", "nobody"]) == 2
    assert [row.user_id for row in store.read()] == ["user-2"]
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(store_module.shadow_calls)).scalar() == 3
    assert store.delete_users([]) == 0
