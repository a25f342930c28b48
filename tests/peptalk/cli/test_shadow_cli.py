"""`peptalk shadow stats|export|prune` on a real log (SQLite and PostgreSQL), and its answers to bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evaluation.shadow_export import load_shadow_export
from peptalk.cli import app
from peptalk.cli.shadow import parse_since
from peptalk.db import sqlite_url
from peptalk.shadow import SqlShadowStore
from tests.peptalk.shadow.test_store_contract import pair

runner = CliRunner()
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "shadow.db")
    else:
        url = request.getfixturevalue("postgres_database")
    store = SqlShadowStore.from_url(url)
    store.migrate()
    store.write([pair(1, created_at=NOW - dt.timedelta(days=45)), pair(2, created_at=NOW - dt.timedelta(days=2)),
                 pair(3, created_at=NOW - dt.timedelta(hours=1), error="BackendUnavailable: refused")])
    store.close()
    yield url


def shadow(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["shadow", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "parquet"])
def test_export_round_trips_into_the_evaluation_loader(database_url: str, tmp_path: Path, export_format: str) -> None:
    output = tmp_path / f"out.{export_format}"
    code, text = shadow("export", "--output", str(output), "--since", "7d", "--database-url", database_url)
    assert code == 0, text
    assert "wrote 2 pairs" in text
    store = SqlShadowStore.from_url(database_url)
    expected = [row.model_dump() for row in store.read(since=NOW - dt.timedelta(days=7))]
    store.close()
    assert [row.model_dump() for row in load_shadow_export(output)] == expected
    assert [row["pair_id"] for row in expected] == ["pair-00002", "pair-00003"]


def test_stats_show_models_error_rates_and_percentiles(database_url: str) -> None:
    code, text = shadow("stats", "--database-url", database_url)
    assert code == 0, text
    assert "3 shadow pairs" in text
    assert "embedded:smollm2-135m" in text and "openai:candidate-1" in text
    assert "33.3%" in text  # one primary error in three
    code, text = shadow("stats", "--since", "3d", "--database-url", database_url)
    assert "2 shadow pairs" in text and "50.0%" in text


def test_prune_deletes_only_old_pairs(database_url: str) -> None:
    code, text = shadow("prune", "--older-than-days", "30", "--database-url", database_url)
    assert code == 0 and "deleted 1 pairs" in text
    store = SqlShadowStore.from_url(database_url)
    assert store.count() == 2
    store.close()


@pytest.mark.parametrize(("args", "message"), [
    (["stats", "--since", "last tuesday"], "--since"),
    (["export", "--format", "xlsx"], "--format"),
    (["export", "--output", "x.json"], "unknown shadow export format"),
    (["export", "--output", "x.csv", "--format", "jsonl"], "suffix"),
    (["prune", "--older-than-days", "0"], "older-than-days"),
])
def test_bad_input_exits_2_with_a_clear_message(args: list[str], message: str, tmp_path: Path) -> None:
    code, text = shadow(*args, "--database-url", sqlite_url(tmp_path / "x.db"))
    assert code == 2, text
    assert message in " ".join(text.replace("│", " ").split())  # rich wraps the error in a box


def test_an_unreachable_database_is_a_clear_error() -> None:
    code, text = shadow("stats", "--database-url", "postgresql+psycopg://nobody:x@127.0.0.1:1/none")
    assert code == 1 and "cannot open the shadow log" in text


def test_since_accepts_dates_times_and_spans() -> None:
    now = dt.datetime(2026, 11, 22, 12, tzinfo=dt.timezone.utc)
    assert parse_since("2026-11-01") == dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    assert parse_since("2026-11-01T08:00+01:00") == dt.datetime(2026, 11, 1, 7, tzinfo=dt.timezone.utc)
    assert parse_since("7d", now=now) == now - dt.timedelta(days=7)
    assert parse_since("30m", now=now) == now - dt.timedelta(minutes=30)
