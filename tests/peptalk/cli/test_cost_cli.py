"""`peptalk cost ...` prints the study's numbers and exits 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peptalk.cli import app
from tests.helpers import ROOT

runner = CliRunner()


def test_api_command_prints_the_study_figures_in_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "peptalk.cli", "cost", "api", "--model", "gpt-4", "--input-tokens", "1000",
         "--output-tokens", "1000", "--requests-per-day", "1000"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "per request: $0.09\n" in result.stdout
    assert "$2,700.00" in result.stdout
    assert "$32,400.00" in result.stdout


def test_json_output_and_the_other_commands() -> None:
    api = json.loads(runner.invoke(app, ["cost", "api", "--json"]).stdout)
    assert (api["per_request"], api["monthly"], api["yearly"]) == (0.09, 2700.0, 32400.0)
    budget = json.loads(runner.invoke(app, ["cost", "budget", "--yearly-budget", "32400", "--json"]).stdout)
    assert budget["daily_active_users"] == 200  # 5 queries a user a day, the paper's example
    budget = json.loads(runner.invoke(app, ["cost", "budget", "--yearly-budget", "32400", "--queries-per-user", "1",
                                            "--json"]).stdout)
    assert budget["daily_active_users"] == 1000
    hosted = json.loads(runner.invoke(app, ["cost", "selfhosted", "--instance-usd-per-hour", "3.6",
                                            "--throughput", "100", "--utilisation", "1", "--json"]).stdout)
    assert hosted["per_1k_tokens"] == 0.01 and hosted["reduction_factor"] == 9.0
    even = json.loads(runner.invoke(app, ["cost", "breakeven", "--instance-usd-per-hour", "1", "--throughput", "100",
                                          "--utilisation", "1", "--input-tokens", "0", "--output-tokens", "100",
                                          "--json"]).stdout)
    assert even["requests_per_day"] == 4000.0


def test_throughput_measured_from_calls(tmp_path: Path) -> None:
    calls = tmp_path / "calls.jsonl"
    # 11 tokens in 1.1 s after a 0.1 s first token: 10 tokens in 1.0 s, 10 tok/s.
    calls.write_text(json.dumps({"model": "ollama:m", "latency_s": 1.1, "ttft_s": 0.1, "output_tokens": 11}) + "\n")
    result = runner.invoke(app, ["cost", "selfhosted", "--instance-usd-per-hour", "0.36", "--calls", str(calls),
                                 "--served-model", "ollama:m", "--utilisation", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["per_1k_tokens"] == pytest.approx(0.01)


@pytest.mark.parametrize("args", [
    ["cost", "api", "--model", "gpt-17"],
    ["cost", "api", "--input-tokens", "-5"],
    ["cost", "api", "--requests-per-day", "-1"],
    ["cost", "api", "--requests-per-day", "lots"],
    ["cost", "selfhosted", "--instance-usd-per-hour", "-2", "--throughput", "10"],
    ["cost", "selfhosted", "--instance-usd-per-hour", "2"],
    ["cost", "selfhosted", "--instance-usd-per-hour", "2", "--throughput", "10", "--utilisation", "0"],
    ["cost", "budget", "--yearly-budget", "-100"],
    ["cost", "budget", "--yearly-budget", "100", "--queries-per-user", "0"],
    ["cost", "breakeven", "--instance-usd-per-hour", "1", "--throughput", "10", "--model", "nope"],
])
def test_bad_input_exits_2_with_a_message(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip()
    assert "Traceback" not in result.output
