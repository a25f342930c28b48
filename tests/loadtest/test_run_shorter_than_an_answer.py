"""A load test whose run is shorter than one answer says so, and exits non-zero with that reason.

Against a real app on uvicorn whose GPT-4 is the slow OpenAI-protocol double (first token after 20 s): the warm-up
answer takes 20 s, and a 3 s run (plus Locust's 10 s for calls in flight) finishes no request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtest.runner import RunConfig, RunResult
from loadtest.scenarios import SCENARIOS
from tests.conftest import ARTIFACTS
from tests.helpers import ROOT, free_port, python, running
from tests.loadtest.test_gate import HEADER, row

FIRST_TOKEN_S = 20


@pytest.fixture
def slow_openai() -> Iterator[str]:
    port = free_port()
    cmd = [python(), "-m", "tests.doubles.slow_openai_server", "--port", str(port), "--model", "gpt-4",
           "--first-token-s", str(FIRST_TOKEN_S), "--tokens", "8"]
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "slow-openai-loadtest.log"):
        yield f"http://127.0.0.1:{port}/v1"


def result_with(tmp_path: Path, aggregated_requests: int | None, warm_up_s: float | None) -> RunResult:
    tmp_path.mkdir(parents=True)
    config = RunConfig(scenario=SCENARIOS["all-miss"], users=2, duration_s=5, out_dir=tmp_path)
    stats = tmp_path / "locust_stats.csv"
    if aggregated_requests is not None:
        stats.write_text(HEADER + row("", "Aggregated", aggregated_requests, 0, 1, 0.0))
    return RunResult(tmp_path, "http://x", 0, stats, tmp_path / "report.html", {}, config, warm_up_s)


def test_the_reason_names_the_run_the_answer_and_a_duration_that_works(tmp_path: Path) -> None:
    assert result_with(tmp_path / "ok", 3, 21.0).measured_nothing() is None
    reason = result_with(tmp_path / "short", 0, 21.3).measured_nothing()
    assert reason is not None
    assert "no request finished within the 5 s run" in reason and "the warm-up answer took 21.3 s" in reason
    assert "--duration 70" in reason  # 21.3 s x (2 users + 1), rounded up to 10 s
    assert "run longer" in (result_with(tmp_path / "cold", 0, None).measured_nothing() or "")
    assert "Locust wrote no stats" in (result_with(tmp_path / "none", None, 1.0).measured_nothing() or "")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_run_shorter_than_one_answer_fails_with_the_reason(slow_openai: str, tmp_path: Path) -> None:
    app_env = {"PEPTALK_BACKENDS": "openai", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4", "PEPTALK_OPENAI_MODELS": "gpt-4",
               "PEPTALK_OPENAI_BASE_URL": slow_openai, "PEPTALK_OPENAI_API_KEY": "test-key"}
    cmd = [sys.executable, "-m", "peptalk.cli", "loadtest", "run", "--scenario", "all-miss", "--users", "1",
           "--duration", "3", "--out", str(tmp_path / "run"), "--mix", "invoke=1",
           *(arg for name, value in app_env.items() for arg in ("--env", f"{name}={value}"))]
    env = {**{key: value for key, value in os.environ.items() if not key.startswith("PEPTALK_")},
           "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=360)
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert "no request finished within the 3 s run" in finished.stderr, finished.stderr
    assert "the warm-up answer took" in finished.stderr and "--duration" in finished.stderr
