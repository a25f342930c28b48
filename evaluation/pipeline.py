"""`peptalk eval run`: judges and metrics over a dataset, rankings, agreement with humans, and the output files.

Output contract (read by the report):
- `scores.jsonl`: `ScoreRow` per (evaluator, prompt_id, model);
- `rankings.json`: `{evaluator: EvaluatorRanking}` (per-model mean, std, n, rank, histogram; unavailable ones with why);
- `agreement.jsonl`: `AgreementRow` per evaluator, best first (only with human ratings);
- `selector.jsonl`: the selector's pick per prompt and order, with agreement across orders;
- `run.json`: what ran, judge calls and cache hits, unparsable counts;
- `tables.md`: the ranking and agreement tables.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.agreement import JACCARD_METHOD, AgreementRow, agreement_table
from evaluation.humans import HUMAN, HumanRating, human_score_rows
from evaluation.jsonl import write_jsonl
from evaluation.judges import JudgeCache, JudgeClient, JudgePreset, SelectorResult, get_preset
from evaluation.judging import run_judges
from evaluation.progress import NoProgress, Progress
from evaluation.rankings import EvaluatorRanking, rank_all
from evaluation.records import DatasetItem
from evaluation.routing import open_router
from evaluation.scores import ScoreRow, write_scores
from evaluation.settings import EvalSettings
from evaluation.similarity import run_metrics
from evaluation.tables import tables_markdown


@dataclass
class EvaluationResult:
    """Everything one evaluation run produced."""

    scores: list[ScoreRow]
    selections: list[SelectorResult]
    rankings: dict[str, EvaluatorRanking]
    agreement: list[AgreementRow]
    summary: dict[str, Any] = field(default_factory=dict)


def judge_temperature(settings: EvalSettings, preset: JudgePreset) -> float:
    """The preset's temperature (slam: the study's), or PEPTALK_EVAL_JUDGE_TEMPERATURE (hardened)."""
    return preset.temperature if preset.temperature is not None else settings.eval_judge_temperature


def judge_settings(settings: EvalSettings, judge_model: str, preset: JudgePreset | None = None) -> EvalSettings:
    """The settings the judge's router is built with: the judge's temperature and token budget."""
    temperature = settings.eval_judge_temperature if preset is None else judge_temperature(settings, preset)
    return settings.model_copy(update={"temperature": temperature,
                                       "max_tokens": settings.eval_judge_max_tokens, "default_model": judge_model})


def judge_cache(settings: EvalSettings) -> JudgeCache:
    return JudgeCache(settings.eval_judge_cache_path or settings.data_dir / "judge_cache.sqlite")


def selector_summary(selections: list[SelectorResult]) -> dict[str, Any]:
    """Agreement across orders and how often the first position won (position bias)."""
    compared = [result.agreement for result in selections if result.agreement is not None]
    positions = [pick.position for result in selections for pick in result.picks if pick.position is not None]
    return {
        "prompts": len(selections),
        "prompts_with_two_parsed_orders": len(compared),
        "order_agreement": sum(compared) / len(compared) if compared else None,
        "parsed_picks": len(positions),
        "first_position_rate": positions.count(1) / len(positions) if positions else None,
    }


async def evaluate(items: list[DatasetItem], *, settings: EvalSettings, judge_model: str | None, judges: list[str],
                   metrics: list[str], humans: list[HumanRating] | None = None, bottom_k: int | None = None,
                   orders: int | None = None, seed: int = 0, progress: Progress | None = None,
                   preset: str | None = None, selector_choices: int | None = None) -> EvaluationResult:
    """Judges (through the router) and metrics over `items`, ranked, and compared with the humans when given.

    `preset` is the judge preset (default PEPTALK_EVAL_JUDGE_PRESET): templates, output formats, temperature.
    """
    progress = progress or NoProgress()
    scores: list[ScoreRow] = []
    selections: list[SelectorResult] = []
    summary: dict[str, Any] = {"items": len(items),
                               "models": sorted({model for item in items for model in item.responses}),
                               "reference_models": sorted({item.reference_model for item in items})}
    if judges:
        model = judge_model or settings.eval_judge_model
        family = get_preset(preset or settings.eval_judge_preset)
        temperature = judge_temperature(settings, family)
        cache = judge_cache(settings)
        try:
            async with open_router(judge_settings(settings, model, family), models=[model],
                                   role="judge (--judge or PEPTALK_EVAL_JUDGE_MODEL)") as router:
                client = JudgeClient(router, model=model, cache=cache, temperature=temperature,
                                     max_tokens=settings.eval_judge_max_tokens,
                                     max_attempts=settings.eval_judge_max_attempts,
                                     concurrency=settings.eval_judge_concurrency)
                judged, selections = await run_judges(items, client, kinds=judges,
                                                      orders=orders or settings.eval_selector_orders, seed=seed,
                                                      progress=progress, preset=family,
                                                      selector_choices=selector_choices)
        finally:
            cache.close()
        scores += judged
        summary["judge"] = {"model": model, "kinds": judges, "preset": family.name, "preset_version": family.version,
                            "templates_verbatim": family.verbatim, "provenance": family.provenance,
                            "temperature": temperature, "model_calls": client.model_calls,
                            "cache_hits": cache.hits, "cache_misses": cache.misses, "cache": str(cache.path)}
        summary["selector"] = selector_summary(selections)
    unavailable: dict[str, str] = {}
    if metrics:
        measured, unavailable = run_metrics(items, names=metrics, settings=settings, progress=progress)
        scores += measured
    rankings, agreement = rank_and_agree(scores, unavailable=unavailable, humans=humans,
                                         k=bottom_k or settings.eval_bottom_k, summary=summary,
                                         exclude=summary["reference_models"])
    return EvaluationResult(scores=scores, selections=selections, rankings=rankings, agreement=agreement,
                            summary=summary)


def rank_and_agree(scores: list[ScoreRow], *, unavailable: dict[str, str], humans: list[HumanRating] | None, k: int,
                   summary: dict[str, Any], exclude: list[str] | tuple[str, ...] = ()
                   ) -> tuple[dict[str, EvaluatorRanking], list[AgreementRow]]:
    """Rankings of every evaluator (unavailable ones with why), and their agreement with the humans when given.

    Agreement is over the candidate models only: `exclude` (the reference models) is left out of it.
    """
    summary["unparsed"] = dict(Counter(row.evaluator for row in scores if row.score is None))
    summary["unavailable"] = unavailable
    rankings = rank_all(scores)
    for name, reason in unavailable.items():
        rankings[name] = EvaluatorRanking(evaluator=name, available=False, reason=reason)
    agreement: list[AgreementRow] = []
    if humans:
        human = rank_all(human_score_rows(humans))[HUMAN]
        agreement = agreement_table(rankings, human, k=k, exclude=exclude)
        rankings[HUMAN] = human
        summary["humans"] = {"ratings": len(humans), "raters": len({rating.rater for rating in humans}), "k": k,
                             "agreement_excludes": sorted(exclude), "jaccard_method": JACCARD_METHOD}
    return rankings, agreement


def selection_rows(selections: list[SelectorResult]) -> list[dict[str, Any]]:
    """`selector.jsonl` rows: per prompt, each order's pick, and agreement across orders."""
    return [{
        "evaluator": result.evaluator,
        "prompt_id": result.prompt_id,
        "orders": [{"order": pick.order, "position": pick.position, "model": pick.model,
                    "parsed": pick.verdict.parsed, "problem": pick.verdict.problem, "raw": pick.verdict.raw,
                    "reason": pick.verdict.reason, "error": pick.verdict.error} for pick in result.picks],
        "agreement": result.agreement,
        "agreement_rate": result.agreement_rate,
    } for result in selections]


def write_outputs(out: Path, result: EvaluationResult) -> list[Path]:
    """Writes the contract files into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "scores.jsonl", out / "rankings.json", out / "selector.jsonl", out / "run.json"]
    write_scores(out / "scores.jsonl", result.scores)
    rankings = {name: ranking.model_dump(mode="json") for name, ranking in result.rankings.items()}
    (out / "rankings.json").write_text(json.dumps(rankings, indent=2) + "\n", encoding="utf-8")
    write_jsonl(out / "selector.jsonl", selection_rows(result.selections))
    (out / "run.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    (out / "tables.md").write_text(tables_markdown(result.rankings, result.agreement), encoding="utf-8")
    written.append(out / "tables.md")
    if result.agreement:
        write_jsonl(out / "agreement.jsonl", result.agreement)
        written.append(out / "agreement.jsonl")
    return written
