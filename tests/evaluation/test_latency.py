"""Percentiles and per-model latency profiles on hand-made lists."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from evaluation.call_sources import load_calls, load_shadow_calls
from evaluation.errors import RecordFileError
from evaluation.latency import latency_by_hour, latency_by_model, percentile, summarize, throughput_tok_s
from evaluation.records import CallRecord, ShadowExportRow
from evaluation.shadow_export import write_shadow_export


def test_percentiles_of_one_to_ten() -> None:
    values = [float(value) for value in range(1, 11)]  # 1..10, ranks 0..9
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 90) == pytest.approx(9.1)  # 9 + 0.1 * (10 - 9)
    assert percentile(values, 95) == pytest.approx(9.55)
    assert percentile(values, 99) == pytest.approx(9.91)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 10.0


def test_percentiles_are_order_free_and_interpolate() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([0.2, 0.2, 0.2, 5.0], 90) == pytest.approx(0.2 + 0.7 * 4.8)  # rank 2.7
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_spread() -> None:
    summary = summarize([2, 4, 4, 4, 5, 5, 7, 9, None])
    assert summary is not None
    assert summary.n == 8
    assert summary.mean == 5.0
    assert summary.std == pytest.approx((32 / 7) ** 0.5)  # sample std
    assert summary.iqr == pytest.approx(5.5 - 4.0)  # p75 = 5.5, p25 = 4.0
    assert summary.cv == pytest.approx(summary.std / 5.0)
    assert summary.p50 == 4.5
    assert summarize([None]) is None


def _call(model: str, latency: float, tokens: int, *, ttft: float = 0.1, hour: int = 9, error: str | None = None,
          cache_hit: bool = False) -> CallRecord:
    return CallRecord(model=model, latency_s=latency, ttft_s=ttft, output_tokens=tokens, error=error,
                      cache_hit=cache_hit, started_at=dt.datetime(2026, 11, 2, hour, 15, tzinfo=dt.UTC))


def test_profiles_flag_widely_varying_length_and_skip_errors_and_cache_hits() -> None:
    steady = [_call("a:steady", 0.1 + 0.01 * 19, 20) for _ in range(5)]
    # Same per-token speed (10 ms), lengths 5..200: latency spread is all length.
    varying = [_call("b:varying", 0.1 + 0.01 * (tokens - 1), tokens) for tokens in (5, 10, 40, 120, 200)]
    noise = [_call("b:varying", 9.0, 3, error="ReadTimeout"), _call("b:varying", 0.001, 30, cache_hit=True)]
    profiles = {profile.model: profile for profile in latency_by_model(steady + varying + noise)}
    assert not profiles["a:steady"].output_length_varies
    assert profiles["b:varying"].output_length_varies
    assert profiles["b:varying"].calls == 7 and profiles["b:varying"].errors == 1
    assert profiles["b:varying"].get("latency_s").n == 5
    assert profiles["b:varying"].get("per_token_s").p50 == pytest.approx(0.01)
    assert profiles["b:varying"].get("per_token_s").std == pytest.approx(0.0, abs=1e-12)
    assert profiles["b:varying"].length_latency_corr == pytest.approx(1.0)
    assert profiles["a:steady"].get("ttft_s").p95 == pytest.approx(0.1)


def test_by_hour_and_throughput() -> None:
    calls = [_call("m:x", 1.0, 11, hour=3), _call("m:x", 2.0, 11, hour=3), _call("m:x", 5.0, 11, hour=15)]
    hours = latency_by_hour(calls)["m:x"]
    assert sorted(hours) == [3, 15]
    assert hours[3].p50 == 1.5 and hours[15].n == 1
    # 10 tokens after the first in 0.9 + 1.9 + 4.9 s.
    assert throughput_tok_s(calls) == pytest.approx(30 / 7.7)
    assert throughput_tok_s([]) is None


def test_loaders_read_calls_and_shadow_exports(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    calls.write_text(_call("m:x", 1.0, 5).model_dump_json() + "\n\n")
    assert load_calls(calls)[0].latency_s == 1.0
    shadow = tmp_path / "shadow.jsonl"
    row = {"request_id": "r1", "created_at": "2026-11-02T07:00:00Z", "user_id": "u", "request": {}, "prompt": "p",
           "primary": {"model": "openai:gpt-4", "latency_s": 2.0},
           "candidates": [{"model": "ollama:s", "latency_s": 1.0}, {"model": "ollama:t", "error": "down"}]}
    shadow.write_text(json.dumps(row) + "\n")
    records = load_shadow_calls(shadow)
    assert [record.model for record in records] == ["openai:gpt-4", "ollama:s", "ollama:t"]
    assert {record.source for record in records} == {"shadow"}
    assert records[1].started_at.hour == 7 and records[1].prompt_id == "r1"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"model": "x"}\nnot json\n')
    with pytest.raises(RecordFileError, match=":2:"):
        load_calls(bad)


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "parquet"])
def test_shadow_exports_feed_the_latency_loader_in_every_format(tmp_path: Path, export_format: str) -> None:
    start = dt.datetime(2026, 11, 2, 7, tzinfo=dt.timezone.utc)
    rows = [ShadowExportRow(pair_id=f"p{n}", request_id=f"r{n}", created_at=start + dt.timedelta(hours=n),
                            user_id="u", request={}, prompt="p",
                            primary=CallRecord(model="openai:gpt-4", latency_s=2.0 + n, output_tokens=10),
                            candidates=[CallRecord(model="ollama:s", latency_s=1.0 + n),
                                        CallRecord(model="ollama:t", error="down")])
            for n in range(3)]
    path = tmp_path / f"shadow.{export_format}"
    assert write_shadow_export(rows, path) == 3
    records = load_shadow_calls(path)
    assert [record.model for record in records] == ["openai:gpt-4", "ollama:s", "ollama:t"] * 3
    assert [record.latency_s for record in records if record.model == "ollama:s"] == [1.0, 2.0, 3.0]
    assert [record.started_at.hour for record in records[::3]] == [7, 8, 9]
    profiles = {profile.model: profile for profile in latency_by_model(records)}
    assert set(profiles) == {"openai:gpt-4", "ollama:s", "ollama:t"}


def test_an_unreadable_shadow_export_is_a_record_file_error(tmp_path: Path) -> None:
    broken = tmp_path / "shadow.csv"
    broken.write_text("not,a,shadow\nexport,at,all\n")
    with pytest.raises(RecordFileError):
        load_shadow_calls(broken)
