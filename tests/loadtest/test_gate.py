"""The SLO gate on results that pass, results that fail, and inputs it cannot read; through the CLI too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loadtest.errors import ResultsError, SloFileError
from loadtest.gate import evaluate, load_slo, read_stats, stats_csv
from peptalk.cli import app

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
          "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
          "99.99%,100%\n")


def row(kind: str, name: str, requests: int, failures: int, p95: int, rps: float) -> str:
    return f"{kind},{name},{requests},{failures},10,12.0,5,{p95 + 10},100,{rps},0.0,10,11,12,13,14,{p95},{p95},{p95},{p95},{p95},{p95}\n"


def results(tmp_path: Path, *rows: str) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "locust_stats.csv").write_text(HEADER + "".join(rows) + row("", "Aggregated", 999, 0, 1, 99.0))
    return folder


GOOD = [row("POST", "invoke", 100, 0, 800, 5.0), row("POST", "stream", 100, 0, 1200, 5.0),
        row("SSE", "stream: first token", 100, 0, 300, 5.0)]
SLO = """
p95_ms: 1500
max_error_rate: 0.01
min_rps: 8
endpoints:
  "stream: first token":
    p95_ms: 500
"""


@pytest.fixture
def slo(tmp_path: Path) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(SLO)
    return path


def test_results_that_meet_every_slo_pass(tmp_path: Path, slo: Path) -> None:
    checks = evaluate(read_stats(stats_csv(results(tmp_path, *GOOD))), load_slo(slo))
    assert [(check.scope, check.metric) for check in checks] == [
        ("overall", "p95_ms"), ("overall", "error_rate"), ("overall", "rps"), ("stream: first token", "p95_ms")]
    assert all(check.passed for check in checks)
    overall = {check.metric: check.observed for check in checks if check.scope == "overall"}
    assert overall == {"p95_ms": 1200, "error_rate": 0.0, "rps": 10.0}  # the SSE row is not an HTTP request


@pytest.mark.parametrize(
    ("rows", "failing"),
    [
        ([row("POST", "invoke", 100, 0, 800, 5.0), row("POST", "stream", 100, 0, 2500, 5.0), GOOD[2]],
         {("overall", "p95_ms")}),
        ([row("POST", "invoke", 100, 3, 800, 5.0), row("POST", "stream", 100, 0, 900, 5.0), GOOD[2]],
         {("overall", "error_rate")}),
        ([row("POST", "invoke", 10, 0, 800, 2.0), row("POST", "stream", 10, 0, 900, 2.0), GOOD[2]],
         {("overall", "rps")}),
        ([*GOOD[:2], row("SSE", "stream: first token", 100, 0, 900, 5.0)], {("stream: first token", "p95_ms")}),
        (GOOD[:2], {("stream: first token", "p95_ms")}),  # a row the SLO names but the run lacks
    ],
)
def test_results_that_miss_one_slo_fail_on_it(tmp_path: Path, slo: Path, rows: list[str], failing: set) -> None:
    checks = evaluate(read_stats(stats_csv(results(tmp_path, *rows))), load_slo(slo))
    assert {(check.scope, check.metric) for check in checks if not check.passed} == failing


@pytest.mark.parametrize(
    ("text", "message"),
    [("p95_ms: fast", "p95_ms must be a number"), ("max_error_rate: 2", "fraction"), ("latency: 3", "unknown key"),
     ("{}", "sets no threshold"), ("- a list", "must be a mapping"), ("p95_ms: [", "not valid YAML")],
)
def test_a_bad_slo_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(text)
    with pytest.raises(SloFileError, match=message):
        load_slo(path)


def test_missing_results_are_named(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="does not exist"):
        stats_csv(tmp_path / "nowhere")
    with pytest.raises(ResultsError, match="no Locust"):
        stats_csv(tmp_path)


def test_the_cli_exit_codes(tmp_path: Path, slo: Path) -> None:
    runner = CliRunner()
    passing = runner.invoke(app, ["loadtest", "gate", "--results", str(results(tmp_path, *GOOD)), "--slo", str(slo)])
    assert passing.exit_code == 0, passing.output
    assert "SLO met" in passing.output

    failing_dir = tmp_path / "failing"
    failing_dir.mkdir()
    (failing_dir / "locust_stats.csv").write_text(HEADER + row("POST", "invoke", 100, 50, 800, 20.0))
    failing = runner.invoke(app, ["loadtest", "gate", "--results", str(failing_dir), "--slo", str(slo)])
    assert failing.exit_code == 1
    assert "FAIL" in failing.output

    missing = runner.invoke(app, ["loadtest", "gate", "--results", str(tmp_path / "nowhere"), "--slo", str(slo)])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_shipped_slo_file_parses() -> None:
    slo = load_slo(Path(__file__).resolve().parents[2] / "loadtest" / "slo.yaml")
    assert slo.overall.max_error_rate == 0.0 and "stream: first token" in slo.endpoints


def test_run_rejects_bad_arguments_with_exit_2() -> None:
    runner = CliRunner()
    for args, message in ((["--scenario", "nope"], "unknown scenario"),
                          (["--scenario", "all-miss", "--mix", "invoke=x"], "--mix"),
                          (["--scenario", "all-miss", "--url", "ftp://x"], "--url"),
                          (["--scenario", "all-miss", "--env", "NOEQUALS"], "--env")):
        result = runner.invoke(app, ["loadtest", "run", *args, "--duration", "1"])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
