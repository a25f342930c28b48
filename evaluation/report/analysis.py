"""The report's numbers: quality per model, agreement with humans, cost per model, and the summary verdict."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.cost import PriceTable, SelfHosted, TokenMix, api_cost
from evaluation.errors import CostInputError
from evaluation.latency import ModelLatency, throughput_tok_s
from evaluation.records import CallRecord
from evaluation.report.inputs import HUMAN, ReportData, Score
from evaluation.settings import eval_default

DEFAULT_TOLERANCE = 0.1  # on the 0-1 quality scale: 1 point out of 10
DEFAULT_BOTTOM_K: int = eval_default("eval_bottom_k")  # the study compared the bottom 10 models


def quality_rows(scores: list[Score]) -> list[dict[str, Any]]:
    """Per evaluator and model: n, unparsed, mean, std, median (native scale) and the mean on 0-1, ranked."""
    groups: dict[tuple[str, str], list[Score]] = defaultdict(list)
    for score in scores:
        groups[(score.evaluator, score.model)].append(score)
    rows: list[dict[str, Any]] = []
    for (evaluator, model), group in sorted(groups.items()):
        values = np.asarray([score.score for score in group if score.score is not None], dtype=float)
        normalised = [score.normalised for score in group if score.normalised is not None]
        rows.append({"evaluator": evaluator, "model": model, "scale": group[0].scale, "n": int(values.size),
                     "unparsed": sum(score.score is None for score in group),
                     "mean": float(values.mean()) if values.size else None,
                     "std": float(values.std(ddof=1)) if values.size > 1 else (0.0 if values.size else None),
                     "median": float(np.median(values)) if values.size else None,
                     "mean_0_1": float(np.mean(normalised)) if normalised else None})
    by_evaluator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_evaluator[row["evaluator"]].append(row)
    for group_rows in by_evaluator.values():
        ranked = sorted((row for row in group_rows if row["mean"] is not None), key=lambda row: -row["mean"])
        for rank, row in enumerate(ranked, start=1):
            row["rank"] = rank
    return rows


def model_means(rows: list[dict[str, Any]], evaluator: str) -> dict[str, float]:
    """An evaluator's mean 0-1 quality per model."""
    return {row["model"]: row["mean_0_1"] for row in rows
            if row["evaluator"] == evaluator and row["mean_0_1"] is not None}


def agreement_rows(data: ReportData, quality: list[dict[str, Any]], k: int = DEFAULT_BOTTOM_K, *,
                   reference: str | None = None) -> list[dict[str, Any]]:
    """`agreement.jsonl` when given; otherwise each evaluator's agreement with the humans, computed here as the
    pipeline does (candidates only, `reference` excluded; expected Jaccard over tie orders)."""
    if data.agreement:
        return [row for row in data.agreement if "evaluator" in row and row.get("jaccard") is not None]
    human = model_means(quality, HUMAN)
    if len(human) < 2:
        return []
    from evaluation.agreement import agreement

    rows = []
    for evaluator in sorted({row["evaluator"] for row in quality} - {HUMAN}):
        means = model_means(quality, evaluator)
        shared = (set(means) & set(human)) - {reference}
        if len(shared) < 2:
            continue
        row = agreement(evaluator, means, human, k=min(k, len(shared) - 1), exclude=[reference] if reference else [])
        rows.append(row.model_dump())
    return rows


def primary_evaluator(quality: list[dict[str, Any]], agreement: list[dict[str, Any]],
                      reference: str | None = None) -> str | None:
    """Humans when rated; else, among evaluators that also score `reference` (so a verdict is possible), the
    one that agrees best with humans, else an absolute LLM judge (`judge-scorer`), else the first by name."""
    evaluators = sorted({row["evaluator"] for row in quality if row["mean_0_1"] is not None})
    if HUMAN in evaluators:
        return HUMAN
    if reference is not None:
        # Similarity metrics compare each model with the reference's answer, so they never score the reference.
        evaluators = [name for name in evaluators if reference in model_means(quality, name)] or evaluators
    ranked = sorted((row for row in agreement if row.get("evaluator") in evaluators),
                    key=lambda row: -(row.get("jaccard") or 0.0))
    if ranked:
        return str(ranked[0]["evaluator"])
    judges = [name for name in evaluators if name.startswith("judge-scorer")]
    return (judges or evaluators)[0] if evaluators else None


def _mean_mix(records: list[CallRecord]) -> TokenMix | None:
    inputs = [record.input_tokens for record in records if record.input_tokens is not None and record.error is None]
    outputs = [record.output_tokens for record in records if record.output_tokens is not None and record.error is None]
    if not outputs:
        return None
    return TokenMix(round(float(np.mean(inputs))) if inputs else 0, round(float(np.mean(outputs))))


def cost_rows(calls: list[CallRecord], models: list[str], prices: PriceTable, *, reference: str,
              hosting: dict[str, float], default_usd_per_hour: float, utilisation: float) -> list[dict[str, Any]]:
    """Per model: $/1K generated tokens, $/request at its measured token mix, and the saving against `reference`.

    API models are priced from the table; the rest as a node at its (or the default) hourly price running at
    the throughput measured from its calls.
    """
    by_model: dict[str, list[CallRecord]] = defaultdict(list)
    for record in calls:
        by_model[record.model].append(record)
    reference_price = prices.price(reference) if prices.has(reference) else None
    reference_mix = _mean_mix(by_model.get(reference, []))
    pooled_mix = _mean_mix(calls) or TokenMix(1000, 1000)  # for a model without calls of its own
    rows = []
    for model in models:
        mix = _mean_mix(by_model.get(model, [])) or pooled_mix
        row: dict[str, Any] = {"model": model, "input_tokens": mix.input_tokens, "output_tokens": mix.output_tokens}
        try:
            if prices.has(model):
                price = prices.price(model)
                row.update(kind="api", per_1k_tokens=price.output_per_1k, throughput_tok_s=None,
                           usd_per_hour=None, per_request=api_cost(price, mix).per_request)
            else:
                throughput = throughput_tok_s(by_model.get(model, []))
                if throughput is None:
                    rows.append({**row, "kind": "self-hosted", "note": "no throughput measured"})
                    continue
                usd_per_hour = hosting.get(model, default_usd_per_hour)
                node = SelfHosted.of(instance_usd_per_hour=usd_per_hour, throughput_tok_s=round(throughput, 3),
                                     utilisation=utilisation)
                row.update(kind="self-hosted", per_1k_tokens=node.per_1k_tokens, throughput_tok_s=throughput,
                           usd_per_hour=usd_per_hour, per_request=node.per_request(mix))
        except CostInputError as exc:
            rows.append({**row, "note": str(exc)})
            continue
        if reference_price is not None and row["per_request"]:
            baseline = api_cost(reference_price, reference_mix or mix).per_request
            row["reduction_factor"] = baseline / row["per_request"]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Evidence:
    """The least evidence a verdict needs: scored responses per model and the largest unparsable answer share."""

    min_scored: int = eval_default("report_min_scored_per_model")
    max_unparsed_share: float = eval_default("report_max_unparsed_share")

    def gaps(self, row: dict[str, Any] | None) -> list[str]:
        """What a model's quality row lacks for a verdict, in words; empty when it has enough."""
        if row is None:
            return ["no scores from the quality source"]
        scored, unparsed = int(row["n"]), int(row["unparsed"])
        gaps = []
        if scored < self.min_scored:
            gaps.append(f"{scored} scored response{'' if scored == 1 else 's'} of the {self.min_scored} needed")
        answered = scored + unparsed
        if answered and unparsed / answered > self.max_unparsed_share:
            gaps.append(f"{unparsed} of {answered} answers unparsable ({unparsed / answered:.0%}; at most "
                        f"{self.max_unparsed_share:.0%} allowed)")
        return gaps

    def rule(self) -> str:
        return (f"A verdict needs at least {self.min_scored} scored responses per model, the reference's included, "
                f"and at most {self.max_unparsed_share:.0%} of a model's answers unparsable; below that the "
                "verdict is \"not enough evidence\".")


@dataclass
class Verdict:
    """The summary table and the plain-language verdict."""

    rows: list[dict[str, Any]]
    reference: str
    quality_source: str | None
    candidates: list[str]
    borderline: list[str]
    worse: list[str]
    text: list[str]
    insufficient: list[str] = field(default_factory=list)  # models without enough evidence for a verdict


def _rank(rows: list[dict[str, Any]], key: str, *, descending: bool) -> None:
    present = [row for row in rows if row.get(key) is not None]
    for rank, row in enumerate(sorted(present, key=lambda row: row[key], reverse=descending), start=1):
        row[f"{key}_rank"] = rank


def summarize_models(quality: list[dict[str, Any]], agreement: list[dict[str, Any]], latency: list[ModelLatency],
                     costs: list[dict[str, Any]], *, reference: str, tolerance: float = DEFAULT_TOLERANCE,
                     evidence: Evidence | None = None) -> Verdict:
    """Ranks every model by quality, p95 latency and cost, and says which could replace `reference`; a model
    (or a reference) with less `evidence` than it needs gets "not enough evidence", never a verdict."""
    evidence = evidence or Evidence()
    source = primary_evaluator(quality, agreement, reference)
    means = model_means(quality, source) if source else {}
    counted = {row["model"]: row for row in quality if row["evaluator"] == source}
    p95 = {profile.model: dist.p95 for profile in latency if (dist := profile.get("latency_s")) is not None}
    errors = {profile.model: profile.error_rate for profile in latency}
    cost = {row["model"]: row for row in costs}
    models = sorted(set(means) | set(p95) | set(cost))
    rows: list[dict[str, Any]] = [{"model": model, "quality": means.get(model), "p95_latency_s": p95.get(model),
             "per_request": cost.get(model, {}).get("per_request"),
             "reduction_factor": cost.get(model, {}).get("reduction_factor"),
             "error_rate": errors.get(model)} for model in models]
    _rank(rows, "quality", descending=True)
    _rank(rows, "p95_latency_s", descending=False)
    _rank(rows, "per_request", descending=False)
    baseline = means.get(reference)
    candidates: list[str] = []
    borderline: list[str] = []
    worse: list[str] = []
    insufficient: list[str] = []
    reference_gaps = evidence.gaps(counted.get(reference)) if baseline is not None else []
    for row in rows:
        counts = counted.get(row["model"])
        row["scored"], row["unparsed"] = (counts["n"], counts["unparsed"]) if counts else (0, 0)
        gaps = evidence.gaps(counts) if row["quality"] is not None else []
        if row["model"] != reference and reference_gaps and row["quality"] is not None:
            gaps = gaps + [f"the reference has {'; '.join(reference_gaps)}"]
        row["missing_evidence"] = "; ".join(gaps) or None
        if row["model"] == reference:
            row["verdict"] = "reference"
        elif baseline is None or row["quality"] is None:
            row["verdict"] = "no quality data"
        elif gaps:
            row["verdict"] = "not enough evidence"
            insufficient.append(row["model"])
        elif baseline - row["quality"] <= tolerance and (row["error_rate"] or 0.0) <= 0.05:
            row["verdict"] = "candidate"
            candidates.append(row["model"])
        elif baseline - row["quality"] > 2 * tolerance:
            row["verdict"] = "clearly worse"
            worse.append(row["model"])
        else:
            row["verdict"] = "borderline"
            borderline.append(row["model"])
    rows.sort(key=lambda row: (row.get("quality_rank") or 10**6, row["model"]))
    text = _verdict_text(rows, reference, source, baseline, tolerance, candidates, borderline, worse,
                         evidence=evidence, insufficient=insufficient)
    return Verdict(rows, reference, source, candidates, borderline, worse, text, insufficient)


def _describe(row: dict[str, Any]) -> str:
    parts = [f"quality {row['quality']:.2f}"]
    if row.get("p95_latency_s") is not None:
        parts.append(f"p95 latency {row['p95_latency_s']:.2f} s")
    if row.get("reduction_factor") is not None:
        parts.append(f"{float(row['reduction_factor']):.1f}x cheaper per request")
    return f"{row['model']} ({', '.join(parts)})"


def _verdict_text(rows: list[dict[str, Any]], reference: str, source: str | None, baseline: float | None,
                  tolerance: float, candidates: list[str], borderline: list[str], worse: list[str], *,
                  evidence: Evidence, insufficient: list[str]) -> list[str]:
    if source is None:
        return ["No quality scores were given, so no model can be recommended yet."]
    if baseline is None:
        return [f"The reference model {reference} has no {source} scores, so no model can be compared with it."]
    by_model = {row["model"]: row for row in rows}
    text = [] if source == HUMAN else [f"No human ratings were given, so quality comes from {source}, the evaluator "
                                         f"that scores {reference} too (and, when agreement was measured, agrees "
                                         "best with humans)."]
    text += [f"Quality is the mean {'human rating' if source == HUMAN else source + ' score'} on a 0-1 scale; "
            f"{reference} scores {baseline:.2f}. A model within {tolerance:.2f} of it, with at most 5% failed "
            f"calls, is a candidate; one more than {2 * tolerance:.2f} below it is clearly worse.", evidence.rule()]
    for label, names in (("Candidates to replace " + reference, candidates), ("Borderline", borderline),
                         ("Clearly worse", worse)):
        if names:
            text.append(f"{label}: " + "; ".join(_describe(by_model[name]) for name in names) + ".")
    if insufficient:
        text.append("Not enough evidence: " + "; ".join(f"{name} ({by_model[name]['missing_evidence']})"
                                                        for name in insufficient) + ".")
    if not candidates:
        text.append(f"No model is yet shown good enough to replace {reference}.")
    return text
