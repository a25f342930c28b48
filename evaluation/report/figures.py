"""The study's figures, drawn with matplotlib's object API (no pyplot state, no display) and saved as PNG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.latency import METRIC_LABELS, Metric, by_model, metric_value, timed
from evaluation.records import CallRecord
from evaluation.report.inputs import HUMAN, Score

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path


def _boxes(axes: Axes, labels: Sequence[str], samples: Sequence[Sequence[float]], ylabel: str) -> None:
    """Box plots with a dashed line at each mean."""
    axes.boxplot(list(samples), tick_labels=list(labels), showmeans=True, meanline=True,
                 meanprops={"color": "tab:red", "linestyle": "--", "linewidth": 1.5},
                 medianprops={"color": "tab:blue"})
    axes.set_ylabel(ylabel)
    axes.tick_params(axis="x", labelrotation=30)
    axes.grid(axis="y", alpha=0.3)


def quality_figure(scores: list[Score], evaluators: list[str], path: Path) -> Path | None:
    """Quality per model, one panel per evaluator (humans first), as box plots with mean lines."""
    panels = [(name, [s for s in scores if s.evaluator == name and s.score is not None]) for name in evaluators]
    panels = [(name, rows) for name, rows in panels if rows]
    if not panels:
        return None
    columns = min(2, len(panels))
    lines = math.ceil(len(panels) / columns)
    figure = _figure(6.5 * columns, 4.2 * lines)
    grid = figure.subplots(lines, columns, squeeze=False)
    for index, (name, rows) in enumerate(panels):
        axes = grid[index // columns][index % columns]
        models = sorted({row.model for row in rows})
        _boxes(axes, models, [[row.score for row in rows if row.model == model] for model in models],  # type: ignore[misc]
               f"score ({rows[0].scale})")
        axes.set_title("Human ratings" if name == HUMAN else f"Evaluator: {name}")
    for index in range(len(panels), lines * columns):
        grid[index // columns][index % columns].set_visible(False)
    figure.suptitle("Quality per model (box: quartiles, solid: median, dashed: mean)")
    return _save(figure, path)


def agreement_figure(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Jaccard agreement of each evaluator's bottom-k models with the human bottom-k, grouped by k."""
    if not rows:
        return None
    ks = sorted({int(row["k"]) for row in rows})
    evaluators = sorted({str(row["evaluator"]) for row in rows},
                        key=lambda name: -max(float(r["jaccard"]) for r in rows if r["evaluator"] == name))
    figure = _figure(max(6.0, 1.1 * len(evaluators) + 2), 4.2)
    axes = figure.subplots()
    width = 0.8 / len(ks)
    for offset, k in enumerate(ks):
        values = [next((float(r["jaccard"]) for r in rows if r["evaluator"] == name and int(r["k"]) == k), 0.0)
                  for name in evaluators]
        positions = [index + offset * width for index in range(len(evaluators))]
        bars = axes.bar(positions, values, width=width, label=f"bottom-{k}")
        axes.bar_label(bars, fmt="%.2f", fontsize=8)
    axes.set_xticks([index + width * (len(ks) - 1) / 2 for index in range(len(evaluators))], evaluators,
                    rotation=30)
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("Jaccard index with humans")
    axes.set_title("Agreement with human ratings (bottom-k models)")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def metric_figure(records: list[CallRecord], metric: Metric, path: Path, title: str) -> Path | None:
    """One box per model of `metric` over its successful calls."""
    groups = by_model(timed(records))
    samples = {model: [v for v in (metric_value(r, metric) for r in group) if v is not None]
               for model, group in groups.items()}
    samples = {model: values for model, values in samples.items() if values}
    if not samples:
        return None
    figure = _figure(max(6.0, 1.3 * len(samples) + 2), 4.2)
    axes = figure.subplots()
    _boxes(axes, list(samples), list(samples.values()), METRIC_LABELS[metric])
    axes.set_title(title)
    return _save(figure, path)


def hourly_figure(hourly: dict[str, dict[int, Any]], path: Path) -> Path | None:
    """Median request latency (and p90 band) per hour of the day, one line per model."""
    if not any(hourly.values()):
        return None
    figure = _figure(8.0, 4.2)
    axes = figure.subplots()
    for model, hours in hourly.items():
        if not hours:
            continue
        xs = sorted(hours)
        line = axes.plot(xs, [hours[h].p50 for h in xs], marker="o", label=model)[0]
        axes.fill_between(xs, [hours[h].min for h in xs], [hours[h].p90 for h in xs], alpha=0.15,
                          color=line.get_color())
    axes.set_xlim(-0.5, 23.5)
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlabel("hour of day (UTC)")
    axes.set_ylabel("request latency (s): median, band min-p90")
    axes.set_title("Latency by hour of day")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    return _save(figure, path)


def cost_figures(rows: list[dict[str, Any]], per_1k_path: Path, reduction_path: Path,
                 titles: tuple[str, str] | None = None) -> dict[str, Path | None]:
    """Bars of $ per 1K generated tokens, and of the per-request cost reduction against the reference."""
    per_1k_title, reduction_title = titles or ("Cost per 1K tokens (red: API price, green: self-hosted node)",
                                               "Cost reduction against the reference API model")
    written: dict[str, Path | None] = {"cost_per_1k": None, "cost_reduction": None}
    priced = [row for row in rows if row.get("per_1k_tokens") is not None]
    if priced:
        figure = _figure(max(6.0, 1.3 * len(priced) + 2), 4.2)
        axes = figure.subplots()
        colours = ["tab:red" if row["kind"] == "api" else "tab:green" for row in priced]
        bars = axes.bar([row["model"] for row in priced], [float(row["per_1k_tokens"]) for row in priced],
                        color=colours)
        axes.bar_label(bars, labels=[f"${float(row['per_1k_tokens']):.4f}" for row in priced], fontsize=8)
        axes.set_yscale("log")
        axes.set_ylabel("USD per 1K generated tokens (log)")
        axes.set_title(per_1k_title)
        axes.tick_params(axis="x", labelrotation=30)
        written["cost_per_1k"] = _save(figure, per_1k_path)
    reduced = [row for row in rows if row.get("reduction_factor") is not None]
    if reduced:
        figure = _figure(max(6.0, 1.3 * len(reduced) + 2), 4.2)
        axes = figure.subplots()
        bars = axes.bar([row["model"] for row in reduced], [float(row["reduction_factor"]) for row in reduced],
                        color="tab:purple")
        axes.bar_label(bars, labels=[f"{float(row['reduction_factor']):.1f}x" for row in reduced], fontsize=8)
        axes.axhline(1.0, color="black", linewidth=0.8)
        axes.set_yscale("log")
        axes.set_ylabel("times cheaper (log)")
        axes.set_title(reduction_title)
        axes.tick_params(axis="x", labelrotation=30)
        written["cost_reduction"] = _save(figure, reduction_path)
    return written
