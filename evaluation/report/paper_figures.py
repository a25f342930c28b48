"""The SLaM paper's figure set (Fig. 8-17) for the report: which chart stands for which figure, the latency
protocol's calls, Fig. 9 (human and scorer means on shared axes), and the `slam` cost baseline (Fig. 16/17).

Figure numbers 9, 10, 11, 13, 16 and 17 follow what the paper's figures are cited for (Fig. 9: human against
scorer means; Fig. 10: bottom-k agreement; Fig. 11 and 13: the spread of output lengths; Fig. 16: cost per 1K
tokens against GPT-4's $0.09; Fig. 17: the g4dn.xlarge saving). Fig. 8, 12, 14 and 15 are mapped by content:
the paper's captions were not available when this was written, and the report says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.cost_presets import SLAM, CostPreset, per_1k_tokens, reduction
from evaluation.latency import throughput_tok_s, timed
from evaluation.records import CallRecord
from evaluation.report.inputs import HUMAN, Score

PROTOCOL_REQUESTS = 10  # the paper's latency protocol: 10 requests with the same input per model


@dataclass(frozen=True)
class PaperFigure:
    """One of the paper's figures and the report chart that reproduces it."""

    number: int
    key: str  # FIGURE_FILES key
    shows: str
    mapping: str  # "cited" (the number is what the paper is cited for) or "by content"


PAPER_FIGURES = (
    PaperFigure(8, "quality", "quality per model, per evaluator (humans first)", "by content"),
    PaperFigure(9, "human_vs_scorer", "mean human rating and mean scorer score per model, on shared axes",
                "cited"),
    PaperFigure(10, "agreement", "bottom-k Jaccard of each evaluator with the humans (candidates only)", "cited"),
    PaperFigure(11, "protocol_latency", "request latency, 10 same-input requests per model", "cited"),
    PaperFigure(12, "protocol_per_token", "per-token latency, 10 same-input requests per model", "by content"),
    PaperFigure(13, "protocol_output_tokens", "output tokens per response, 10 same-input requests per model",
                "cited"),
    PaperFigure(14, "latency_by_hour", "request latency by hour of day", "by content"),
    PaperFigure(15, "length_latency", "output length against request latency, per model", "by content"),
    PaperFigure(16, "slam_cost_per_1k", "cost per 1K tokens on a g4dn.xlarge at 80% against GPT-4 at $0.09",
                "cited"),
    PaperFigure(17, "slam_reduction", "times cheaper than GPT-4 on a g4dn.xlarge (slam preset)", "cited"),
)


def _input_key(record: CallRecord) -> str | None:
    """Which input a call answered: its prompt id; probes all send the one probe request."""
    if record.prompt_id is not None:
        return f"prompt:{record.prompt_id}"
    return "probe" if record.source == "probe" else None


def protocol_calls(calls: list[CallRecord], *, per_model: int = PROTOCOL_REQUESTS
                   ) -> tuple[list[CallRecord], list[str]]:
    """Per model, up to `per_model` successful calls with one and the same input (the input it was asked most).

    Shadow and other pooled production calls, which answer many different inputs, are left out. Returns the
    calls and a note per model that had fewer than `per_model` such calls.
    """
    grouped: dict[str, dict[str, list[CallRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in timed(calls):
        key = _input_key(record)
        if key is not None and record.source != "shadow":
            grouped[record.model][key].append(record)
    chosen: list[CallRecord] = []
    notes: list[str] = []
    for model in sorted(grouped):
        inputs = grouped[model]
        best = max(inputs, key=lambda key: len(inputs[key]))  # first seen wins a tie (dicts keep order)
        picked = sorted(inputs[best], key=lambda r: (r.repeat is None, r.repeat or 0))[:per_model]
        if len(picked) < per_model:
            notes.append(f"{model}: only {len(picked)} same-input requests (the protocol asks for {per_model})")
        chosen += picked
    return chosen, notes


def human_vs_scorer_means(scores: list[Score]) -> tuple[str | None, list[dict[str, Any]]]:
    """The scorer evaluator used for Fig. 9, and per model the mean human rating and scorer score on 0-10."""
    scorers = sorted({score.evaluator for score in scores if "scorer" in score.evaluator and score.evaluator != HUMAN})
    if not scorers or not any(score.evaluator == HUMAN for score in scores):
        return (scorers[0] if scorers else None), []
    scorer = scorers[0]
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for score in scores:
        if score.evaluator in (HUMAN, scorer) and score.normalised is not None:
            values[(score.evaluator, score.model)].append(10 * score.normalised)
    models = sorted({model for _, model in values})
    rows = [{"model": model,
             "human_mean": float(np.mean(values[(HUMAN, model)])) if values[(HUMAN, model)] else None,
             "scorer_mean": float(np.mean(values[(scorer, model)])) if values[(scorer, model)] else None}
            for model in models]
    return scorer, [row for row in rows if row["human_mean"] is not None and row["scorer_mean"] is not None]


def human_vs_scorer_figure(rows: list[dict[str, Any]], scorer: str | None, path: Path) -> Path | None:
    """Fig. 9: both means per model as paired bars on one 0-10 axis (one axes, one scale)."""
    if not rows:
        return None
    from evaluation.report.figures import _figure, _save

    figure = _figure(max(6.0, 1.2 * len(rows) + 2), 4.2)
    axes = figure.subplots()
    positions = np.arange(len(rows))
    for offset, (key, label) in enumerate((("human_mean", "humans"), ("scorer_mean", f"scorer ({scorer})"))):
        bars = axes.bar(positions + (offset - 0.5) * 0.4, [row[key] for row in rows], width=0.4, label=label)
        axes.bar_label(bars, fmt="%.1f", fontsize=8)
    axes.set_xticks(positions, [row["model"] for row in rows], rotation=30)
    axes.set_ylim(0, 10.5)
    axes.set_ylabel("mean score (0-10, shared axis)")
    axes.set_title("Fig. 9: human and scorer means per model")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def length_latency_figure(calls: list[CallRecord], path: Path) -> Path | None:
    """Fig. 15 (by content): output tokens against request latency, one colour per model."""
    points = [record for record in calls if record.output_tokens is not None and record.latency_s is not None]
    if not points:
        return None
    from evaluation.report.figures import _figure, _save

    figure = _figure(7.0, 4.2)
    axes = figure.subplots()
    for model in sorted({record.model for record in points}):
        mine = [record for record in points if record.model == model]
        axes.scatter([float(r.output_tokens or 0) for r in mine], [float(r.latency_s or 0.0) for r in mine],
                     label=model, s=14, alpha=0.7)
    axes.set_xlabel("output tokens")
    axes.set_ylabel("request latency (s)")
    axes.set_title("Output length against latency (same-input protocol calls)")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def slam_cost_rows(calls: list[CallRecord], models: list[str], *, reference: str,
                   preset: CostPreset = SLAM) -> list[dict[str, Any]]:
    """Fig. 16/17 under the slam preset: each model's $/1K tokens on the preset's node at its measured
    throughput, and the saving against GPT-4's flat $0.09 per 1K tokens. The reference is the API itself."""
    by_model: dict[str, list[CallRecord]] = defaultdict(list)
    for record in calls:
        by_model[record.model].append(record)
    rows: list[dict[str, Any]] = []
    for model in models:
        if model == reference:
            rows.append({"model": model, "kind": "api", "per_1k_tokens": preset.api_per_1k_tokens,
                         "throughput_tok_s": None, "reduction_factor": None})
            continue
        throughput = throughput_tok_s(by_model.get(model, []))
        if throughput is None:
            rows.append({"model": model, "kind": "self-hosted", "note": "no throughput measured"})
            continue
        rate = Decimal(str(round(throughput, 3)))
        rows.append({"model": model, "kind": "self-hosted", "instance": preset.node.instance,
                     "throughput_tok_s": throughput, "per_1k_tokens": per_1k_tokens(preset, rate),
                     "reduction_factor": reduction(preset, rate)})
    return rows


def reduction_range(rows: list[dict[str, Any]]) -> tuple[Decimal, Decimal] | None:
    """The lowest and highest reduction factor among `rows` (this run's answer to the paper's 5x-29x/5x-23x)."""
    factors = [row["reduction_factor"] for row in rows if row.get("reduction_factor") is not None]
    return (min(factors), max(factors)) if factors else None
