"""All judge kinds over a dataset (scripted judge), and the output files of the contract."""

from __future__ import annotations

import json
from pathlib import Path

from evaluation.judges import JudgeClient
from evaluation.judging import count_judge_tasks, run_judges
from evaluation.humans import HumanRating
from evaluation.pipeline import EvaluationResult, rank_and_agree, selection_rows, write_outputs
from evaluation.records import DatasetItem
from tests.evaluation.fakes import ScriptedLayer

ITEMS = [DatasetItem(prompt_id=f"p{index}", prompt=f"Instruction {index}", reference_model="ref",
                     responses={"ref": "Reference talk", "slm": "Small talk"}) for index in range(2)]


def answer(prompt: str) -> str:
    if "Best:" in prompt:
        return "Reason: it is warmer.\nBest: 1"
    return "Reason: same plan.\nScore: 7" if "Reason:" in prompt else "Looks fine.\nScore: 6"


async def test_every_kind_over_every_item_grouped_by_item() -> None:
    layer = ScriptedLayer(answer)
    client = JudgeClient(layer, model="fake:judge", cache=None, temperature=0.0, max_tokens=32, concurrency=1)
    kinds = ["scorer", "comparer", "comparer-reason", "selector"]
    rows, selections = await run_judges(ITEMS, client, kinds=kinds, orders=2)
    assert count_judge_tasks(ITEMS, kinds) == 2 * (2 + 1 + 1 + 1)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.evaluator] = counts.get(row.evaluator, 0) + 1
    assert counts == {"judge-scorer:fake:judge": 4, "judge-comparer:fake:judge": 2,
                      "judge-comparer-reason:fake:judge": 2, "judge-selector:fake:judge": 4}
    assert {row.score for row in rows if row.evaluator == "judge-comparer-reason:fake:judge"} == {7.0}
    assert len(selections) == 2 and all(result.agreement is False for result in selections)  # always "1"
    # All of one item's judge prompts reach the model before the next item's (prefix caching).
    first_item = ["Instruction 0" in str(call.messages[0].content) for call in layer.calls]
    assert first_item == sorted(first_item, reverse=True)


async def test_output_files_follow_the_contract(tmp_path: Path) -> None:
    layer = ScriptedLayer(answer)
    client = JudgeClient(layer, model="fake:judge", cache=None, temperature=0.0, max_tokens=32)
    rows, selections = await run_judges(ITEMS, client, kinds=["scorer", "selector"], orders=2)
    humans = [HumanRating(prompt_id=item.prompt_id, model=model, rater="r", score=score)
              for item in ITEMS for model, score in (("ref", 9), ("slm", 3))]
    summary: dict[str, object] = {}
    rankings, agreement = rank_and_agree(rows, unavailable={"use-qa": "no TF Hub"}, humans=humans, k=1,
                                         summary=summary)
    written = write_outputs(tmp_path, EvaluationResult(rows, selections, rankings, agreement, summary))
    assert {path.name for path in written} == {"scores.jsonl", "rankings.json", "selector.jsonl", "run.json",
                                               "tables.md", "agreement.jsonl"}
    score_row = json.loads((tmp_path / "scores.jsonl").read_text().splitlines()[0])
    assert {"evaluator", "prompt_id", "model", "score", "scale", "parsed", "raw"} <= set(score_row)
    ranking = json.loads((tmp_path / "rankings.json").read_text())
    assert ranking["use-qa"] == {"evaluator": "use-qa", "scale": None, "available": False, "reason": "no TF Hub",
                                 "models": {}}
    assert {"mean", "std", "n", "rank"} <= set(ranking["judge-scorer:fake:judge"]["models"]["ref"])
    agreement_rows = [json.loads(line) for line in (tmp_path / "agreement.jsonl").read_text().splitlines()]
    assert [set(row) for row in agreement_rows][0] == {"evaluator", "k", "jaccard", "spearman", "kendall", "n_models",
                                                       "jaccard_tie_sets", "method", "excluded"}
    assert selection_rows(selections)[0]["orders"][0]["order"] == ["ref", "slm"]
