"""The one-command report on a small hand-made study: every figure, real plots, linked data, and a verdict."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from evaluation.probe_store import ProbeCall, ProbeStore
from evaluation.report import FIGURE_FILES, ReportSources, build_report
from peptalk.cli import app
from peptalk.db import make_engine, sqlite_url, upgrade

runner = CliRunner()


@pytest.fixture(scope="module")
def report(study_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("report")
    sources = ReportSources(eval_dir=study_dir, humans=study_dir / "humans.csv")
    return build_report(sources, out), out


def assert_real_plot(path: Path) -> None:
    assert path.stat().st_size > 5_000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert 400 <= width <= 3000 and 250 <= height <= 3000, (path, image.size)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20, path  # axes, text and data, not a blank canvas
        background = max(colours)[0] / (width * height)
        assert background < 0.97, path


def test_every_figure_is_drawn_and_really_a_plot(report) -> None:
    result, out = report
    assert set(result.figures) == set(FIGURE_FILES)
    assert result.empty_sections == []
    for key, path in result.figures.items():
        assert path == out / "figures" / FIGURE_FILES[key]
        assert_real_plot(path)


def test_html_and_markdown_embed_every_figure_and_link_existing_data(report) -> None:
    result, out = report
    html = result.html.read_text()
    markdown = result.markdown.read_text()
    for name in FIGURE_FILES.values():
        assert f'<img src="figures/{name}"' in html
        assert f"](figures/{name})" in markdown
    links = set(re.findall(r'href="([^"]+)"', html)) | set(re.findall(r"\]\((data/[^)]+)\)", markdown))
    assert {"data/summary.csv", "data/quality.csv", "data/latency.csv", "data/cost.csv", "data/agreement.csv",
            "data/latency_by_hour.csv", "data/calls.csv", "data/scores.csv"} <= links
    for link in links:
        assert (out / link).is_file(), link
    assert "No data" not in html


def test_summary_ranks_and_verdict(report) -> None:
    result, out = report
    with (out / "data" / "summary.csv").open() as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert rows["openai:gpt-4"]["verdict"] == "reference"
    assert rows["ollama:starling-lm:7b"]["verdict"] == "candidate"
    assert rows["embedded:smollm2-135m"]["verdict"] == "clearly worse"
    assert rows["embedded:smollm2-135m"]["quality_rank"] == "4"
    assert float(rows["ollama:starling-lm:7b"]["reduction_factor"]) > 1
    assert rows["openai:gpt-4"]["per_request_rank"] == "4"  # the API is the dearest
    html = result.html.read_text()
    assert "Candidates to replace openai:gpt-4: ollama:starling-lm:7b" in html
    assert "Clearly worse: embedded:smollm2-135m" in html
    # The length-variance flag names the model whose answers vary in length, and only it.
    flagged = re.search(r"Answer length varies widely.*?</p>", html, re.S).group(0)
    assert "embedded:smollm2-135m" in flagged and "starling" not in flagged


def test_latency_csv_matches_the_calls(report, study_dir: Path) -> None:
    from evaluation.call_sources import load_calls
    from evaluation.latency import percentile

    _, out = report
    calls = [c for c in load_calls(study_dir / "calls.jsonl") if c.model == "openai:gpt-4"]
    with (out / "data" / "latency.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["model"] == "openai:gpt-4" and r["metric"] == "latency_s")
    assert float(row["p95"]) == pytest.approx(percentile([c.latency_s for c in calls], 95), abs=1e-5)
    assert int(row["n"]) == len(calls)


def test_missing_and_broken_inputs_give_no_data_sections(tmp_path: Path) -> None:
    empty = build_report(ReportSources(), tmp_path / "empty")
    html = empty.html.read_text()
    assert empty.figures == {} and "No data" in html
    assert set(empty.empty_sections) == {"quality", "agreement", "protocol", "latency", "hourly", "slam", "cost"}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scores.jsonl").write_text("{not json\n")
    (broken / "calls.jsonl").write_text('{"model": 5, "latency_s": "slow"}\n')
    result = build_report(ReportSources(eval_dir=broken), tmp_path / "broken-report")
    assert "unreadable" in result.html.read_text()
    assert result.figures == {}


def test_probe_database_feeds_the_latency_sections(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "probes.db"))
    upgrade(engine)
    store = ProbeStore(engine)
    run = store.start_run(models=["ollama:a"], interval_s=3600, warmup=0, measured=3, request={},
                          started_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    for hour in range(0, 24, 3):
        for seq in range(3):
            store.add(ProbeCall(run, hour, "measured", seq, "ollama:a",
                                dt.datetime(2026, 11, 2, hour, seq, tzinfo=dt.UTC), latency_s=1 + hour / 10 + seq,
                                ttft_s=0.2, output_tokens=40 + seq, input_tokens=300))
    store.add(ProbeCall(run, 0, "warmup", 0, "ollama:a", dt.datetime(2026, 11, 2, tzinfo=dt.UTC), latency_s=99.0))
    result = build_report(ReportSources(probe_db=sqlite_url(tmp_path / "probes.db")), tmp_path / "out")
    assert {"latency_request", "latency_by_hour", "latency_per_token", "output_tokens"} <= set(result.figures)
    assert_real_plot(result.figures["latency_by_hour"])
    with (tmp_path / "out" / "data" / "latency_by_hour.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 8  # eight hours probed
    with (tmp_path / "out" / "data" / "calls.csv").open() as handle:
        assert all(float(row["latency_s"]) < 99 for row in csv.DictReader(handle))  # warm-up calls left out


def test_cli_builds_the_report_and_refuses_missing_paths(study_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "report", "--out", str(tmp_path / "r"), "--eval-dir", str(study_dir),
                                 "--humans", str(study_dir / "humans.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "index.html").is_file() and f"{len(FIGURE_FILES)} figure(s)" in result.output
    missing = runner.invoke(app, ["eval", "report", "--out", str(tmp_path / "x"), "--humans", "nope.csv"])
    assert missing.exit_code == 2 and "does not exist" in missing.output
