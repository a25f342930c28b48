"""A short, bounded headless Locust run against the app on a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from loadtest.runner import RunConfig, run
from loadtest.scenarios import SCENARIOS


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


@pytest.mark.timeout(120)
def test_a_headless_run_has_no_failures_and_every_row(tmp_path: Path, canned_app_env: dict[str, str]) -> None:
    config = RunConfig(scenario=SCENARIOS["cache-hit-heavy"], users=3, duration_s=8, out_dir=tmp_path / "run",
                       app_env=canned_app_env, batch_size=2)
    result = run(config)

    assert result.locust_exit_code == 0, (tmp_path / "run" / "locust.log").read_text()[-3000:]
    stats = rows(result.stats_csv)
    assert set(stats) == {"invoke", "batch", "stream", "stream: first token", "Aggregated"}
    assert stats["stream: first token"]["Type"] == "SSE"
    for name in ("invoke", "batch", "stream", "stream: first token"):
        assert int(stats[name]["Request Count"]) > 0, name
        assert int(stats[name]["Failure Count"]) == 0, name
    # A stream is timed to its last byte, so its row cannot be faster than its first token.
    assert float(stats["stream"]["Average Response Time"]) >= float(stats["stream: first token"]["Average Response Time"])
    assert result.html_report.stat().st_size > 10_000

    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["scenario"] == "cache-hit-heavy" and record["started_app"] is True
    assert record["app_env"]["PEPTALK_OPENAI_API_KEY"] == "***"
    summary = record["summary"]
    assert summary["model:openai:gpt-4"] > 0
    assert summary["repeated_payloads"] > summary["fresh_payloads"]  # 90% repeats
    assert summary.get("cache_hits", 0) > 0  # the scenario switches the semantic cache on; repeats hit it
