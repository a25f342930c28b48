"""Runs the judges over dataset items: scorer on every response, comparers against the reference, selector per prompt."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from typing import Any

from evaluation.judges import CompareJudge, JudgeClient, JudgeVerdict, ScoreJudge, SelectJudge, SelectorResult
from evaluation.judges.presets import HARDENED, JudgePreset
from evaluation.progress import NoProgress, Progress
from evaluation.records import DatasetItem
from evaluation.scores import ScoreRow

JUDGE_KINDS = ("scorer", "comparer", "comparer-reason", "selector")


def _row(evaluator: str, item: DatasetItem, model: str, verdict: JudgeVerdict, preset: str) -> ScoreRow:
    return ScoreRow(evaluator=evaluator, prompt_id=item.prompt_id, model=model, score=verdict.score, scale="0-10",
                    parsed=verdict.parsed, raw=verdict.raw, reason=verdict.reason,
                    problem=verdict.problem if not verdict.error else f"error: {verdict.error}", judge_preset=preset)


def selector_rows(result: SelectorResult, models: list[str], *, prompt_id: str | None = None,
                  preset: str | None = None) -> list[ScoreRow]:
    """Each model's share of the orders in which the selector picked it (0-1), or None when no order parsed."""
    parsed = bool(result.parsed_models)
    return [ScoreRow(evaluator=result.evaluator, prompt_id=prompt_id or result.prompt_id, model=model,
                     score=result.win_share(model), scale="0-1", parsed=parsed,
                     problem=None if parsed else "no order parsed", judge_preset=preset) for model in models]


def selector_groups(models: list[str], choices: int | None, *, seed: str) -> list[list[str]]:
    """The sets of answers the selector is shown for one prompt: all at once, or seeded groups of `choices`.

    Every model is in exactly one group; a group of one (nothing to choose from) joins the group before it.
    """
    if choices is None or len(models) <= choices:
        return [list(models)]
    shuffled = list(models)
    random.Random(seed).shuffle(shuffled)
    groups = [shuffled[start:start + choices] for start in range(0, len(shuffled), choices)]
    if len(groups[-1]) == 1:
        last = groups.pop()
        groups[-1] += last
    return groups


def count_judge_tasks(items: list[DatasetItem], kinds: list[str], *, selector_choices: int | None = None,
                      seed: int = 0) -> int:
    """How many judged units (responses, pairs, selector groups) `run_judges` will report progress for."""
    total = 0
    for item in items:
        compared = len([m for m in item.responses if m != item.reference_model]) if item.reference_model in item.responses else 0
        total += len(item.responses) if "scorer" in kinds else 0
        total += compared * sum(kind in kinds for kind in ("comparer", "comparer-reason"))
        if "selector" in kinds and len(item.responses) >= 2:
            total += len(selector_groups(list(item.responses), selector_choices, seed=f"{seed}:{item.prompt_id}"))
    return total


async def run_judges(items: list[DatasetItem], client: JudgeClient, *, kinds: list[str], orders: int, seed: int = 0,
                     progress: Progress | None = None, preset: JudgePreset = HARDENED,
                     selector_choices: int | None = None) -> tuple[list[ScoreRow], list[SelectorResult]]:
    """Every judge kind in `kinds` over `items`, concurrently up to the client's limit; rows keep dataset order.

    `preset` picks the templates and output formats; `selector_choices` (default: the preset's) how many answers
    the selector sees at once. Every row records the preset and its templates' version.
    """
    progress = progress or NoProgress()
    choices = selector_choices if selector_choices is not None else preset.selector_choices
    progress.start(f"judging with {client.model} ({preset.name})",
                   count_judge_tasks(items, kinds, selector_choices=choices, seed=seed))
    version = preset.version
    scorer, selector = ScoreJudge(client, preset=preset), SelectJudge(client, preset=preset)
    comparers = [CompareJudge(client, with_reason=kind == "comparer-reason", preset=preset)
                 for kind in ("comparer", "comparer-reason") if kind in kinds]

    async def tracked(work: Awaitable[Any]) -> Any:
        result = await work
        progress.advance()
        return result

    # Every judge prompt starts with the same instruction block, and all of one item's prompts are queued together,
    # so an engine with prefix caching (llama.cpp, vLLM) evaluates the long shared prefix once per item.
    row_tasks: list[tuple[str, DatasetItem, Any]] = []
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
            groups = selector_groups(list(item.responses), choices, seed=f"{seed}:{item.prompt_id}")
            for index, group in enumerate(groups):
                label = item.prompt_id if len(groups) == 1 else f"{item.prompt_id}#group{index + 1}"
                row_tasks.append(("", item, group))
                work.append(selector.select(label, item.prompt, {model: item.responses[model] for model in group},
                                            orders=orders, seed=seed))
    outcomes = await asyncio.gather(*(tracked(task) for task in work))
    rows: list[ScoreRow] = []
    results: list[SelectorResult] = []
    for (evaluator, item, model), outcome in zip(row_tasks, outcomes, strict=True):
        if isinstance(outcome, SelectorResult):
            results.append(outcome)
            rows += selector_rows(outcome, list(model), prompt_id=item.prompt_id, preset=version)
        else:
            rows.append(_row(evaluator, item, model, outcome, version))
    return rows, results
