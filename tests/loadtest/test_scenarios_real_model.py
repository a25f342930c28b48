"""The `all-miss` and `shadow-on` load scenarios, bounded, against the real models (not the canned upstream).

`all-miss`: the embedded SmolLM2 answers every call. `shadow-on`: GPT-4 is llama_cpp.server behind the OpenAI-rules
proxy, and every request is mirrored to the embedded model, whose answers land in the shadow log.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from loadtest.runner import RunConfig, run
from loadtest.scenarios import SCENARIOS
from peptalk.db import sqlite_url
from peptalk.shadow import SqlShadowStore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
# The models are slow on two shared cores: allow for slow, never for broken.
PATIENT = {"PEPTALK_MAX_TOKENS": "8", "PEPTALK_REQUEST_TIMEOUT_S": "300", "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "300",
           "PEPTALK_REQUEST_DEADLINE_S": "400"}


def _stats(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def _check_run(result, out: Path) -> dict[str, object]:  # noqa: ANN001
    assert result.locust_exit_code == 0, (out / "locust.log").read_text()[-3000:]
    stats = _stats(result.stats_csv)
    assert int(stats["Aggregated"]["Request Count"]) > 0 and int(stats["Aggregated"]["Failure Count"]) == 0
    return json.loads((out / "run.json").read_text())["summary"]


def test_all_miss_on_the_embedded_model(tmp_path: Path) -> None:
    out = tmp_path / "all-miss"
    env = {"PEPTALK_BACKENDS": "embedded", "PEPTALK_DEFAULT_MODEL": "embedded:smollm2-135m", **PATIENT}
    result = run(RunConfig(scenario=SCENARIOS["all-miss"], users=2, duration_s=15, out_dir=out, app_env=env,
                           batch_size=1, stop_timeout_s=60))
    summary = _check_run(result, out)
    assert summary["repeated_payloads"] == 0 and summary["fresh_payloads"] > 0
    assert summary.get("cache_hits", 0) == 0 and summary["cache_misses"] > 0  # every call reached the model
    assert summary["model:embedded:smollm2-135m"] == summary["cache_misses"]


def test_shadow_on_mirrors_gpt4_traffic_to_the_embedded_model(tmp_path: Path, openai_server: str) -> None:
    out = tmp_path / "shadow-on"
    env = {"PEPTALK_BACKENDS": "embedded,openai", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4",
           "PEPTALK_OPENAI_BASE_URL": openai_server, "PEPTALK_OPENAI_API_KEY": "test-key", **PATIENT,
           "PEPTALK_SHADOW_MAX_IN_FLIGHT": "1", "PEPTALK_SHADOW_DRAIN_TIMEOUT_S": "8", "PEPTALK_SHADOW_TIMEOUT_S": "120"}
    result = run(RunConfig(scenario=SCENARIOS["shadow-on"], users=2, duration_s=15, out_dir=out, app_env=env,
                           batch_size=1, stop_timeout_s=60))
    summary = _check_run(result, out)
    assert summary["model:openai:gpt-4"] > 0 and "model:embedded:smollm2-135m" not in summary  # the primary served
    store = SqlShadowStore.from_url(sqlite_url(out / "app-data" / "peptalk.db"))
    rows = list(store.read())
    assert rows, "no request was mirrored"
    candidates = [call for row in rows for call in row.candidates]
    assert {call.model for call in candidates} == {"embedded:smollm2-135m"}
    answered = [call for call in candidates if call.error is None]
    assert answered and all(call.response and call.latency_s > 0 for call in answered)
    assert all(row.primary.model == "openai:gpt-4" for row in rows)
