"""The paper's printed figures and captions, checked against the paper's text, and the "paper vs ours" table."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.cost import load_price_table
from evaluation.latency import latency_by_model
from evaluation.records import CallRecord
from evaluation.report import ReportSources, build_report
from evaluation.report.paper_claims import NOT_REPRODUCIBLE, PAPER_CLAIMS, ClaimInputs, claim_rows
from evaluation.report.paper_figures import PAPER_FIGURES
from tests.helpers import ROOT
from tests.paper import paper_text, squash

DOC = ROOT / "docs" / "slam-reproduction.md"


def _paper() -> str:
    return squash(paper_text().replace("\\$", "$"))  # the text escapes its dollar signs


@pytest.mark.parametrize("claim", PAPER_CLAIMS, ids=lambda claim: f"{claim.where}: {claim.quantity}")
def test_each_printed_figure_is_the_papers_own_words(claim: object) -> None:
    assert squash(claim.quote) in _paper()  # type: ignore[attr-defined]


@pytest.mark.parametrize("figure", PAPER_FIGURES, ids=lambda figure: f"Fig. {figure.number}")
def test_each_caption_is_the_papers(figure: object) -> None:
    assert f"Fig. {figure.number}. {squash(figure.caption)}" in _paper()  # type: ignore[attr-defined]


def _by_quantity(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {f"{row['where']}: {row['quantity']}": row for row in rows}


def test_the_cost_arithmetic_is_reproduced_and_the_user_count_is_not() -> None:
    rows = _by_quantity(claim_rows(ClaimInputs(reference="openai:gpt-4", prices=load_price_table(None))))
    assert rows["Section III-B: GPT-4 cost of one request (1000 input + 1000 output tokens)"]["ours"] == "$0.09"
    assert rows["Section III-B: GPT-4 yearly cost at 1000 requests/day"]["ours"] == "$32,400.00"
    million = rows["Section III-B: GPT-4 monthly cost at 360,000 requests/day"]
    assert (million["ours"], million["agrees"]) == ("$972,000.00", "yes")  # within the paper's rounding
    users = rows["Section III-B: users a $12,000,000/year budget serves at 5 queries/day"]
    assert (users["ours"], users["agrees"]) == ("74,074", "no")  # the paper's own inputs give 74k, not 71k
    assert rows["Fig. 16: GPT-4 price per 1K tokens (input + output)"]["agrees"] == "yes"
    # Nothing measured: every run-dependent figure says so, with a reason.
    for row in rows.values():
        if row["agrees"] == NOT_REPRODUCIBLE:
            assert row["reason"], row


def _calls(model: str, per_token: float, tokens: list[int]) -> list[CallRecord]:
    return [CallRecord(model=model, response="...", latency_s=0.2 + per_token * (count - 1), ttft_s=0.2,
                       output_tokens=count, input_tokens=300, prompt_id="p1", repeat=index, source="generator")
            for index, count in enumerate(tokens)]


def test_measured_study_models_are_compared_with_the_papers_figures() -> None:
    human = {"openai:gpt-4": 5.9, "ollama:vicuna:7b-q2_K_L": 5.6, "ollama:starling-lm:7b": 4.9,
             "ollama:neural-chat:7b-v3.2-q2_K": 0.5, "ollama:orca2:7b": 1.0, "ollama:orca2:7b-q2_K": 1.1,
             "ollama:orca2:7b-q3_K_L": 1.2, "ollama:stablelm-zephyr:3b-q2_K_L": 1.3, "ollama:mistral:7b-instruct": 4}
    calls = (_calls("openai:gpt-4", 0.03, [100, 101, 102]) + _calls("ollama:mistral:7b-instruct", 0.01, [50, 90, 140])
             + _calls("ollama:starling-lm:7b", 0.02, [60, 100, 160]))
    rows = _by_quantity(claim_rows(ClaimInputs(
        reference="openai:gpt-4", human_means=human, protocol=latency_by_model(calls),
        agreement=[{"evaluator": "sem-bleu", "jaccard": 0.8}, {"evaluator": "judge-scorer:x", "jaccard": 0.6}])))
    assert rows["Fig. 8: mean human score of GPT-4"]["agrees"] == "yes"
    assert rows["Fig. 8: mean human score of vicuna:7b-q3"]["ours"] == "5.6 (ollama:vicuna:7b-q2_K_L)"
    assert rows["Fig. 8: mean human score of neural-chat:7b-q2"]["agrees"] == "no"  # 0.5 against 5.3
    assert rows["Fig. 8: the clearly worse SLMs (lowest human means)"]["agrees"] == "no"  # neural-chat is lower
    assert rows["Fig. 10: evaluator closest to the humans (highest bottom-10 Jaccard)"]["agrees"] == "yes"
    assert rows["Fig. 9: GPT-Scorer finds the humans' inferior models (bottom-k Jaccard)"]["agrees"] == "yes"
    assert rows["Fig. 11: lowest mean per-request latency"]["agrees"] == "no"  # mistral is faster here
    assert rows["Fig. 13: model with the least spread of output tokens (std)"]["agrees"] == "yes"
    fig12 = rows["Fig. 12: mean per-token latency of stablelm-zephyr:3b, mistral:7b-instruct, starling-lm:7b minus "
                 "GPT-4's (s)"]
    assert fig12["agrees"] == NOT_REPRODUCIBLE and "stablelm-zephyr:3b" in str(fig12["reason"])
    assert "24 hours" in str(rows["Fig. 14: range of GPT-4's hourly median request latency over 24 hours"]["reason"])


def test_the_docs_table_is_the_claims_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "reconstruct" not in text.lower()
    for row in claim_rows(ClaimInputs(reference="openai:gpt-4", prices=load_price_table(None))):
        static = row["agrees"] != NOT_REPRODUCIBLE
        ours = row["ours"] if static else "per run"
        agrees = row["agrees"] if static else "per run"
        line = f"| {row['where']} | {row['quantity']} | {row['paper']} | {ours} | {row['tolerance']} | {agrees} |"
        assert line in text, line


def test_no_doc_calls_a_template_we_have_a_reconstruction() -> None:
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert "reconstruct" not in page.read_text(encoding="utf-8").lower(), page


def test_a_figure_the_run_cannot_draw_is_not_reproducible_here(study_dir: Path, tmp_path: Path) -> None:
    scores_only = tmp_path / "in"
    scores_only.mkdir()
    (scores_only / "scores.jsonl").write_bytes((study_dir / "scores.jsonl").read_bytes())
    result = build_report(ReportSources(eval_dir=scores_only), tmp_path / "r")
    html, markdown = result.html.read_text(), result.markdown.read_text()
    assert '<a href="figures/quality.png">quality.png</a>' in html  # Fig. 8 is drawn from the scores
    missing = [figure for figure in PAPER_FIGURES if figure.key not in result.figures]
    assert {figure.number for figure in missing} >= {11, 12, 13, 14, 15, 16, 17}
    for figure in missing:
        assert f"not reproducible here: this run lacks {figure.needs}" in markdown, figure.number
    assert html.count("not reproducible here: this run lacks") == len(missing)
