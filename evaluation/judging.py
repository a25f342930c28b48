"""Runs the judges over dataset items: scorer on every response, comparers against the reference, selector per prompt."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from evaluation.judges import CompareJudge, JudgeClient, JudgeVerdict, ScoreJudge, SelectJudge, SelectorResult
from evaluation.progress import NoProgress, Progress
from evaluation.records import DatasetItem
from evaluation.scores import ScoreRow

JUDGE_KINDS = ("scorer", "comparer", "comparer-reason", "selector")


def _row(evaluator: str, item: DatasetItem, model: str, verdict: JudgeVerdict) -> ScoreRow:
    return ScoreRow(evaluator=evaluator, prompt_id=item.prompt_id, model=model, score=verdict.score, scale="0-10",
                    parsed=verdict.parsed, raw=verdict.raw, reason=verdict.reason,
                    problem=verdict.problem if not verdict.error else f"error: {verdict.error}")


def selector_rows(result: SelectorResult, models: list[str]) -> list[ScoreRow]:
    """Each model's share of the orders in which the selector picked it (0-1), or None when no order parsed."""
    parsed = bool(result.parsed_models)
    return [ScoreRow(evaluator=result.evaluator, prompt_id=result.prompt_id, model=model,
                     score=result.win_share(model), scale="0-1", parsed=parsed,
                     problem=None if parsed else "no order parsed") for model in models]


def count_judge_tasks(items: list[DatasetItem], kinds: list[str]) -> int:
    """How many judged units (responses, pairs, prompts) `run_judges` will report progress for."""
    total = 0
    for item in items:
        compared = len([m for m in item.responses if m != item.reference_model]) if item.reference_model in item.responses else 0
        total += len(item.responses) if "scorer" in kinds else 0
        total += compared * sum(kind in kinds for kind in ("comparer", "comparer-reason"))
        total += 1 if "selector" in kinds and len(item.responses) >= 2 else 0
    return total


async def run_judges(items: list[DatasetItem], client: JudgeClient, *, kinds: list[str], orders: int, seed: int = 0,
                     progress: Progress | None = None) -> tuple[list[ScoreRow], list[SelectorResult]]:
    """Every judge kind in `kinds` over `items`, concurrently up to the client's limit; rows keep dataset order."""
    progress = progress or NoProgress()
    progress.start(f"judging with {client.model}", count_judge_tasks(items, kinds))
    scorer, selector = ScoreJudge(client), SelectJudge(client)
    comparers = [CompareJudge(client, with_reason=kind == "comparer-reason")
                 for kind in ("comparer", "comparer-reason") if kind in kinds]

    async def tracked(work: Awaitable[Any]) -> Any:
        result = await work
        progress.advance()
        return result

    # Every judge prompt starts with the same instruction block, and all of one item's prompts are queued together,
    # so an engine with prefix caching (llama.cpp, vLLM) evaluates the long shared prefix once per item.
    row_tasks: list[tuple[str, DatasetItem, str]] = []
    work: list[Awaitable[Any]] = []
    for item in items:
        if "scorer" in kinds:
            for model, text in item.responses.items():
                row_tasks.append((scorer.evaluator, item, model))
                work.append(scorer.score(item.prompt, text))
        reference = item.responses.get(item.reference_model)
        if reference is not None:
            for comparer in comparers:
                for model, text in item.responses.items():
                    if model != item.reference_model:
                        row_tasks.append((comparer.evaluator, item, model))
                        work.append(comparer.compare(item.prompt, reference, text))
        if "selector" in kinds and len(item.responses) >= 2:
            row_tasks.append(("", item, ""))
            work.append(selector.select(item.prompt_id, item.prompt, item.responses, orders=orders, seed=seed))
    outcomes = await asyncio.gather(*(tracked(task) for task in work))
    rows: list[ScoreRow] = []
    results: list[SelectorResult] = []
    for (evaluator, item, model), outcome in zip(row_tasks, outcomes, strict=True):
        if isinstance(outcome, SelectorResult):
            results.append(outcome)
            rows += selector_rows(outcome, list(item.responses))
        else:
            rows.append(_row(evaluator, item, model, outcome))
    return rows, results
