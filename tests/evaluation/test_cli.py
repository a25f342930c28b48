"""`peptalk eval` through the CLI in a subprocess: bad input exits 2; a real run judges with the embedded model."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from evaluation.generator import prompt_ids
from peptalk.synthetic import load_contexts
from tests.conftest import OPENAI_ALIAS
from tests.helpers import ROOT, python

EMBEDDED = "embedded:smollm2-135m"
GPT4 = f"openai:{OPENAI_ALIAS}"
JUDGE = EMBEDDED


def peptalk_eval(*args: str, env: dict[str, str] | None = None, timeout: float = 2400) -> subprocess.CompletedProcess[str]:
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("PEPTALK_")}, "PYTHONPATH": str(ROOT),
                "PEPTALK_LOG_LEVEL": "WARNING", "COLUMNS": "200", **(env or {})}
    return subprocess.run([python(), "-m", "peptalk.cli", "eval", *args], capture_output=True, text=True, env=full_env,
                          cwd=ROOT, timeout=timeout)


def write_dataset(path: Path) -> Path:
    item = {"prompt_id": "p1", "prompt": "Write a pep talk", "responses": {"a:x": "Go!", "b:y": "Yes!"},
            "reference_model": "a:x"}
    path.write_text(json.dumps(item) + "\n")
    return path


@pytest.mark.parametrize(("args", "message"), [
    (["run", "--dataset", "{tmp}/missing.jsonl", "--out", "{tmp}/o", "--judges", ""], "no such file"),
    (["run", "--dataset", "{tmp}/bad.jsonl", "--out", "{tmp}/o", "--judges", ""], "bad.jsonl:1: not JSON"),
    (["run", "--dataset", "{tmp}/d.jsonl", "--out", "{tmp}/o", "--judges", "scorer,oracle"], "unknown judge oracle"),
    (["similarity", "--dataset", "{tmp}/d.jsonl", "--out", "{tmp}/o", "--metrics", "rouge"], "unknown metric rouge"),
    (["run", "--dataset", "{tmp}/d.jsonl", "--out", "{tmp}/o", "--judge", "nope:model", "--metrics", ""],
     "judge (--judge or PEPTALK_EVAL_JUDGE_MODEL): unknown model 'nope:model'"),
    (["generate", "--models", "embedded:smollm2-135m,ollama:nope", "--out", "{tmp}/d2.jsonl"],
     "--models: unknown model 'ollama:nope'"),
    (["run", "--dataset", "{tmp}/d.jsonl", "--out", "{tmp}/o", "--judges", "", "--humans", "{tmp}/h.csv"],
     "header lacks"),
    (["run", "--out", "{tmp}/o"], "give --dataset, or --models"),
    (["generate", "--models", "embedded:smollm2-135m", "--repeats", "0", "--out", "{tmp}/d2.jsonl"], "--repeats"),
    (["generate", "--models", "embedded:smollm2-135m", "--contexts", "{tmp}/ctx.jsonl", "--out", "{tmp}/d2.jsonl"],
     "ctx.jsonl:1: last_login"),
])
def test_bad_input_exits_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    write_dataset(tmp_path / "d.jsonl")
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    (tmp_path / "h.csv").write_text("prompt,model\n")
    (tmp_path / "ctx.jsonl").write_text(json.dumps({"user_id": "u", "today": "2026-11-01", "last_login": "2026-11-02"}))
    result = peptalk_eval(*[arg.format(tmp=tmp_path) for arg in args], timeout=600)  # a loaded machine: generous
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "default model" not in result.stderr


def test_run_on_a_generated_dataset_keeps_its_timed_calls_for_the_report(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "d.jsonl")
    (tmp_path / "calls.jsonl").write_text(json.dumps({"model": "a:x", "latency_s": 1.0}) + "\n")
    result = peptalk_eval("run", "--dataset", str(dataset), "--out", str(tmp_path / "run1"), "--judges", "",
                          "--metrics", "tfidf", timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "run1" / "calls.jsonl").read_text() == (tmp_path / "calls.jsonl").read_text()


def test_similarity_and_agreement_steps(tmp_path: Path) -> None:
    """The lexical metrics and the agreement step on a hand-made dataset, no model needed."""
    dataset = tmp_path / "d.jsonl"
    rows = [{"prompt_id": f"p{i}", "prompt": "Write a pep talk", "reference_model": "ref",
             "responses": {"ref": "Finish the slides and go for a run", "close": "Finish the slides and go for a walk",
                           "far": "Invoices are due"}} for i in range(2)]
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = peptalk_eval("similarity", "--dataset", str(dataset), "--out", str(tmp_path / "sim"),
                          "--metrics", "tfidf,bleu,use-qa", timeout=120)
    assert result.returncode == 0, result.stderr
    rankings = json.loads((tmp_path / "sim" / "rankings.json").read_text())
    assert rankings["tfidf"]["models"]["close"]["rank"] == 1 and rankings["bleu"]["models"]["far"]["rank"] == 2
    assert rankings["use-qa"]["available"] is False and "tensorflow" in rankings["use-qa"]["reason"]
    humans = tmp_path / "h.csv"
    humans.write_text("prompt_id,model,rater,score\n" + "".join(f"p{i},close,r1,8\np{i},far,r1,2\n" for i in range(2)))
    result = peptalk_eval("agreement", "--scores", str(tmp_path / "sim" / "scores.jsonl"), "--humans", str(humans),
                          "--bottom-k", "1", "--out", str(tmp_path / "agree"), timeout=120)
    assert result.returncode == 0, result.stderr
    table = [json.loads(line) for line in (tmp_path / "agree" / "agreement.jsonl").read_text().splitlines()]
    assert {row["evaluator"] for row in table} == {"tfidf", "bleu"}
    assert all(row["jaccard"] == 1.0 and row["spearman"] == pytest.approx(1.0) and row["n_models"] == 2 for row in table)
    assert "## Agreement with human ratings" in result.stdout


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.timeout(5400)  # two eval runs of up to 2400 s each: at a load average of 15 one took over 1500 s
def test_eval_run_end_to_end(openai_server: str, tmp_path: Path) -> None:
    """Generate with the embedded model and the llama.cpp OpenAI server, judge with the embedded model, rank, agree."""
    env = {"PEPTALK_BACKENDS": "embedded,openai", "PEPTALK_OPENAI_BASE_URL": openai_server,
           "PEPTALK_OPENAI_API_KEY": "test-key", "PEPTALK_OPENAI_MODELS": OPENAI_ALIAS, "PEPTALK_MAX_TOKENS": "16",
           "PEPTALK_EVAL_JUDGE_MAX_TOKENS": "32", "PEPTALK_DATA_DIR": str(tmp_path / "var"),
           "PEPTALK_EVAL_JUDGE_PRESET": "hardened",  # greedy, so the judge-call counts below are exact
           # A judge prompt holds the whole production prompt: on a loaded machine one call can take minutes, and a
           # timed-out call is not cached, so the limits are generous (the test measures nothing).
           "PEPTALK_REQUEST_TIMEOUT_S": "1800", "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "1800",
           "PEPTALK_REQUEST_DEADLINE_S": "3600"}
    ids = prompt_ids(load_contexts()[:2])
    humans = tmp_path / "ratings.csv"
    with humans.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(["prompt_id", "model", "rater", "score"])
        for prompt_id in ids:
            writer.writerows([[prompt_id, GPT4, "r1", 9], [prompt_id, GPT4, "r2", 8], [prompt_id, EMBEDDED, "r1", 4]])
    judges = ["--judge", JUDGE, "--judges", "scorer,comparer-reason,selector", "--orders", "2"]
    out = tmp_path / "run1"
    result = peptalk_eval("run", "--models", f"{EMBEDDED},{GPT4}", "--reference", GPT4, "--prompts", "2", *judges,
                          "--metrics", "tfidf,bleu,sbert,sem-bleu,embeddings,use-qa", "--humans", str(humans),
                          "--bottom-k", "1", "--out", str(out), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "## Rankings" in result.stdout and "## Agreement with human ratings" in result.stdout

    calls = read_jsonl(out / "calls.jsonl")
    assert len(calls) == 4 and all(call["error"] is None and call["latency_s"] > 0 for call in calls)
    assert {call["model"] for call in calls} == {EMBEDDED, GPT4}
    assert all(call["ttft_s"] is not None and call["response"] for call in calls)
    # llama.cpp's OpenAI server sends no usage while streaming, so only the embedded calls carry token counts.
    assert all(call["output_tokens"] for call in calls if call["model"] == EMBEDDED)

    scores = read_jsonl(out / "scores.jsonl")
    by_evaluator: dict[str, list[dict[str, object]]] = {}
    for row in scores:
        by_evaluator.setdefault(str(row["evaluator"]), []).append(row)
    assert len(by_evaluator[f"judge-scorer:{JUDGE}"]) == 4  # 2 prompts x 2 models, the reference included
    assert len(by_evaluator[f"judge-comparer-reason:{JUDGE}"]) == 2  # the non-reference model only
    assert len(by_evaluator[f"judge-selector:{JUDGE}"]) == 4
    for row in by_evaluator[f"judge-scorer:{JUDGE}"] + by_evaluator[f"judge-comparer-reason:{JUDGE}"]:
        # The judge's words are kept, parsable or not; a judge call that failed (a timeout on a loaded
        # machine) has no words but must say why, and is never given a score.
        assert isinstance(row["raw"], str) or row["problem"]
        assert (row["score"] is None) == (not row["parsed"])
        assert row["parsed"] or row["problem"]
        if row["parsed"]:
            assert 0 <= float(row["score"]) <= 10  # type: ignore[arg-type]
    for metric in ("tfidf", "bleu", "sbert", "sem-bleu"):
        assert [row["model"] for row in by_evaluator[metric]] == [EMBEDDED, EMBEDDED]

    rankings = json.loads((out / "rankings.json").read_text())
    assert rankings["use-qa"]["available"] is False and rankings["embeddings"]["available"] is False
    assert rankings["human"]["models"][GPT4]["rank"] == 1 and rankings["human"]["models"][EMBEDDED]["rank"] == 2
    assert rankings["tfidf"]["models"][EMBEDDED]["n"] == 2

    agreement = read_jsonl(out / "agreement.jsonl")
    assert {row["evaluator"] for row in agreement} >= {"tfidf", "bleu", "sbert", "sem-bleu"}
    selections = read_jsonl(out / "selector.jsonl")
    assert len(selections) == 2 and all(len(row["orders"]) == 2 for row in selections)  # type: ignore[arg-type]
    summary = json.loads((out / "run.json").read_text())
    # 4 scorer + 2 comparer + 2 prompts x 2 orders = 10 judge prompts. Two models that answer alike (both are
    # SmolLM2 here, sampled the same way) give equal scorer prompts: the second is a hit on the first's answer.
    lookups, distinct = 10, summary["judge"]["cache_misses"]
    assert summary["judge"]["cache_misses"] + summary["judge"]["cache_hits"] == lookups
    assert 1 <= distinct <= lookups and summary["judge"]["model_calls"] >= distinct

    # A re-run on the written dataset asks the judge only what it never answered: every answer it gave comes
    # from the disk cache. (A judge call that timed out on a loaded machine is not cached, so it is asked again.)
    with sqlite3.connect(summary["judge"]["cache"]) as cache_db:
        answered = cache_db.execute("SELECT COUNT(*) FROM judge_answers").fetchone()[0]
    assert 1 <= answered <= distinct
    again = tmp_path / "run2"
    result = peptalk_eval("run", "--dataset", str(out / "dataset.jsonl"), *judges, "--metrics", "tfidf",
                          "--out", str(again), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((again / "run.json").read_text())
    assert summary["judge"]["cache_hits"] + summary["judge"]["cache_misses"] == lookups
    assert summary["judge"]["cache_hits"] >= answered  # every prompt answered before comes from the disk cache
    if answered == distinct:  # nothing failed the first time: the re-run is the same, with no judge call
        assert summary["judge"]["model_calls"] == 0 and summary["judge"]["cache_hits"] == lookups
        judged = [row for row in read_jsonl(again / "scores.jsonl") if str(row["evaluator"]).startswith("judge-")]
        assert judged == [row for row in scores if str(row["evaluator"]).startswith("judge-")]
