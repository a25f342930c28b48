"""The report carries the paper's figure set: Fig. 9 on shared axes, the latency protocol apart from pooled calls,
the slam cost baseline (Fig. 16/17) with its readings, and agreement over candidates only."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from evaluation.cost_presets import SLAM, reduction
from evaluation.records import CallRecord
from evaluation.report import FIGURE_FILES, ReportSources, build_report
from evaluation.report.inputs import HUMAN, Score
from evaluation.report.paper_figures import (
    PAPER_FIGURES, human_vs_scorer_means, protocol_calls, slam_cost_rows,
)

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def record(model: str, prompt_id: str | None, repeat: int, *, source: str = "generator", tokens: int = 50,
           latency: float = 1.0) -> CallRecord:
    return CallRecord(model=model, response="...", latency_s=latency, ttft_s=0.1, output_tokens=tokens,
                      input_tokens=300, started_at=START, prompt_id=prompt_id, repeat=repeat, source=source)


def test_every_paper_figure_from_8_to_17_has_a_chart() -> None:
    assert [figure.number for figure in PAPER_FIGURES] == list(range(8, 18))
    assert all(figure.key in FIGURE_FILES for figure in PAPER_FIGURES)


def test_protocol_takes_ten_same_input_requests_and_leaves_pooled_calls_out() -> None:
    calls = [record("m", "p1", repeat) for repeat in range(12)] + [record("m", "p2", 0)]
    calls += [record("m", None, index, source="shadow") for index in range(30)]
    calls += [record("probe-only", None, index, source="probe") for index in range(4)]
    chosen, notes = protocol_calls(calls)
    mine = [call for call in chosen if call.model == "m"]
    assert len(mine) == 10 and {call.prompt_id for call in mine} == {"p1"}
    assert [call.repeat for call in mine] == list(range(10))
    assert all(call.source != "shadow" for call in chosen)
    assert len([call for call in chosen if call.model == "probe-only"]) == 4
    assert notes == ["probe-only: only 4 same-input requests (the protocol asks for 10)"]


def test_fig9_puts_human_and_scorer_on_one_0_10_scale() -> None:
    scores = [Score(HUMAN, "p", "a", 8.0), Score(HUMAN, "p", "b", 4.0),
              Score("judge-scorer:x", "p", "a", 0.6, "0-1"), Score("judge-scorer:x", "p", "b", 2.0)]
    scorer, rows = human_vs_scorer_means(scores)
    assert scorer == "judge-scorer:x"
    assert rows == [{"model": "a", "human_mean": 8.0, "scorer_mean": 6.0},
                    {"model": "b", "human_mean": 4.0, "scorer_mean": 2.0}]


def test_slam_cost_rows_use_fig16s_arithmetic() -> None:
    # 10 tokens a second: 50 output tokens in (1.0 - 0.1) s over 49 intervals.
    calls = [record("slm", "p", repeat) for repeat in range(10)]
    rows = slam_cost_rows(calls, ["gpt", "slm"], reference="gpt")
    api, slm = rows
    assert api["per_1k_tokens"] == Decimal("0.09") and api["kind"] == "api"
    assert slm["instance"] == "g4dn.xlarge"
    assert slm["reduction_factor"] == reduction(SLAM, Decimal(str(round(slm["throughput_tok_s"], 3))))


def test_report_shows_the_figure_map_the_readings_and_candidate_only_agreement(study_dir: Path,
                                                                              tmp_path: Path) -> None:
    result = build_report(ReportSources(eval_dir=study_dir, humans=study_dir / "humans.csv"), tmp_path / "r")
    html = result.html.read_text()
    for number in range(8, 18):
        assert f"<td>Fig. {number}</td>" in html
    assert set(result.figures) == set(FIGURE_FILES)
    assert "g4dn.xlarge" in html and "80%" in html and "$0.09 per 1K tokens" in html
    assert "5x-29x" in html and "71,000" in html and "28 rows" in html
    assert "only 3 same-input requests" in html  # the fixture repeats each prompt 3 times, not 10
    with (tmp_path / "r" / "data" / "agreement.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all("openai:gpt-4" in row["excluded"] for row in rows)
    assert all(int(row["n_models"]) == 3 for row in rows)  # four models, the reference left out
    markdown = result.markdown.read_text()
    assert "Fig. 16" in markdown and "reading taken" in markdown
