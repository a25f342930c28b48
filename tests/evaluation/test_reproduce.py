"""`peptalk eval reproduce` end to end at a tiny scale: the embedded model and the llama.cpp OpenAI server as the
GPT-4 stand-in answer the study's prompt, the embedded model judges with the slam preset, and the report builds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evaluation.generator import prompt_ids
from evaluation.judges import get_preset
from peptalk.prompt import get_template
from peptalk.synthetic import load_contexts
from tests.conftest import OPENAI_ALIAS
from tests.evaluation.test_cli import EMBEDDED, GPT4, peptalk_eval, read_jsonl


def test_bad_input_exits_2(tmp_path: Path) -> None:
    result = peptalk_eval("reproduce", "--out", str(tmp_path / "o"), "--models", EMBEDDED)
    assert result.returncode == 2 and "at least one candidate" in result.stderr
    result = peptalk_eval("reproduce", "--out", str(tmp_path / "o"), "--models", f"{EMBEDDED},{GPT4}",
                          "--judges", "oracle")
    assert result.returncode == 2 and "unknown judge oracle" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_reproduce_runs_the_whole_study_at_tiny_scale(openai_server: str, tmp_path: Path) -> None:
    env = {"PEPTALK_BACKENDS": "embedded,openai", "PEPTALK_OPENAI_BASE_URL": openai_server,
           "PEPTALK_OPENAI_API_KEY": "test-key", "PEPTALK_OPENAI_MODELS": OPENAI_ALIAS, "PEPTALK_MAX_TOKENS": "16",
           "PEPTALK_EVAL_JUDGE_MAX_TOKENS": "24", "PEPTALK_DATA_DIR": str(tmp_path / "var"),
           # The slam judge samples at 0.7, so an unparsable answer would be asked again: once is enough here
           # (SmolLM2 rarely follows the format, and each judge call reads the whole production prompt).
           "PEPTALK_EVAL_JUDGE_MAX_ATTEMPTS": "1",
           "PEPTALK_REPORT_REFERENCE_MODEL": GPT4,
           # A judge prompt holds the whole production prompt: on a loaded machine one call can take minutes, and a
           # timed-out call is not cached, so the limits are generous (the test measures nothing).
           "PEPTALK_REQUEST_TIMEOUT_S": "1800", "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "1800",
           "PEPTALK_REQUEST_DEADLINE_S": "3600"}
    (prompt_id,) = prompt_ids(load_contexts()[:1])
    humans = tmp_path / "ratings.csv"
    with humans.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(["prompt_id", "model", "rater", "score"])
        writer.writerows([[prompt_id, GPT4, "r1", 9], [prompt_id, EMBEDDED, "r1", 4]])
    out = tmp_path / "study"
    result = peptalk_eval("reproduce", "--out", str(out), "--models", f"{GPT4},{EMBEDDED}", "--prompts", "1",
                          "--repeats", "2", "--judge", EMBEDDED, "--metrics", "tfidf,bleu", "--humans", str(humans),
                          "--orders", "1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr

    version = get_template("slam").version
    (item,) = read_jsonl(out / "dataset.jsonl")
    assert item["template_version"] == version and item["reference_model"] == GPT4
    assert "Imagine you are my personal assistant" in str(item["prompt"])
    calls = read_jsonl(out / "calls.jsonl")
    assert len(calls) == 2 * 2 and {call["template_version"] for call in calls} == {version}
    # 16 tokens cannot hold a pep talk: the embedded model's answers are cut, and say so.
    assert all(call["truncated"] for call in calls if call["model"] == EMBEDDED)

    scores = read_jsonl(out / "scores.jsonl")
    judged = [row for row in scores if str(row["evaluator"]).startswith("judge-")]
    assert {str(row["evaluator"]).split(":")[0] for row in judged} == {
        "judge-scorer", "judge-comparer", "judge-comparer-reason", "judge-selector"}
    assert {str(row["judge_preset"]).split("@")[0] for row in judged} == {"slam"}
    run = json.loads((out / "run.json").read_text())
    assert run["judge"]["preset"] == "slam" and run["judge"]["temperature"] == 0.7
    # The paper's Section IV-B2 templates, verbatim (tests/evaluation/judges/test_slam_templates.py).
    assert run["judge"]["templates_verbatim"] is True
    assert {row["judge_preset"] for row in judged} == {get_preset("slam").version}
    agreement = read_jsonl(out / "agreement.jsonl")
    assert agreement and all(row["excluded"] == [GPT4] for row in agreement)

    used = json.loads((out / "reproduce.json").read_text())
    assert used["prompt_template"] == version and used["generation"]["repeats"] == 2
    assert used["cost_preset"]["instance"] == "g4dn.xlarge" and used["timings_s"]["evaluate_s"] > 0
    html = (out / "report" / "index.html").read_text()
    assert "Fig. 16" in html and "g4dn.xlarge" in html
    assert "Paper vs ours" in html and (out / "report" / "data" / "paper_vs_ours.csv").exists()
    # One prompt and one human rating per model are far below the report's minimum: no verdict is given.
    assert "not enough evidence" in html and "Clearly worse" not in html
    assert len(used["report_figures"]) >= 8
