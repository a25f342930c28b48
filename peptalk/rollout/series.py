"""The rollout over time, for the status page's plot: stage share, cumulative preference share with its anytime
lower bound, candidate error rate."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from peptalk.rollout.base import Rollout
from peptalk.rollout.stats import confidence_bounds
from peptalk.rollout.store import RolloutStore, utc
from peptalk.shadow.store import shadow_calls, shadow_pairs


@dataclass
class Series:
    """Points as (seconds since the rollout started, value)."""

    share: list[tuple[float, float]] = field(default_factory=list)
    preference_lower_bound: list[tuple[float, float]] = field(default_factory=list)
    preference_share: list[tuple[float, float]] = field(default_factory=list)
    error_rate: list[tuple[float, float]] = field(default_factory=list)
    margin: float | None = None


def rollout_series(store: RolloutStore, rollout: Rollout, *, now: dt.datetime, buckets: int = 20,
                   points: int = 200) -> Series:
    """The share step by step, the preference share and its lower bound over the verdicts since the rollout
    started (at most `points` points), errors per time bucket."""
    start = rollout.created_at
    gates = rollout.stage.gates
    series = Series(margin=gates.margin)

    def at(moment: dt.datetime) -> float:
        return (utc(moment) - start).total_seconds()

    stages = {stage.name: stage.share for stage in rollout.plan.stages}
    for transition in store.history(rollout.id):
        share = stages.get(transition.to_stage, 0.0)
        if series.share:
            series.share.append((at(transition.at), series.share[-1][1]))
        series.share.append((at(transition.at), share))
    if series.share:
        series.share.append((at(now), series.share[-1][1]))
    judged = [verdict for verdict in store.verdicts(rollout.plan.candidate, since=start)
              if verdict.outcome is not None and verdict.primary == rollout.plan.primary]
    counts: Counter[float] = Counter()
    every = max(1, len(judged) // points)
    for index, verdict in enumerate(judged, start=1):
        counts[{"win": 1.0, "tie": 0.5, "loss": 0.0}[verdict.outcome or "tie"]] += 1
        if index % every and index != len(judged):
            continue
        lower, _ = confidence_bounds(counts, gates.alpha)
        share = (counts[1.0] + counts[0.5] / 2) / index
        series.preference_share.append((at(verdict.judged_at), share))
        series.preference_lower_bound.append((at(verdict.judged_at), lower or 0.0))
    span = max(at(now), 1e-6)
    width = span / buckets
    calls = [0] * buckets
    errors = [0] * buckets
    query = (select(shadow_pairs.c.created_at, shadow_calls.c.error)
             .join(shadow_calls, shadow_pairs.c.pair_id == shadow_calls.c.pair_id)
             .where(shadow_pairs.c.created_at >= start, shadow_calls.c.model == rollout.plan.candidate))
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            index = min(int(at(row.created_at) / width), buckets - 1)
            calls[index] += 1
            errors[index] += row.error is not None
    series.error_rate = [((index + 0.5) * width, errors[index] / calls[index])
                         for index in range(buckets) if calls[index]]
    return series


def plot_svg(series: Series) -> str:
    """The series as one inline SVG figure (matplotlib, Agg backend)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    if series.share:
        axes.plot(*zip(*series.share), label="stage share", color="#1f77b4", linewidth=2)
    if series.preference_share:
        axes.plot(*zip(*series.preference_share), label="preference share", color="#2ca02c", alpha=0.6)
        axes.plot(*zip(*series.preference_lower_bound), label="anytime lower bound", color="#2ca02c",
                  linestyle="--")
    if series.error_rate:
        axes.plot(*zip(*series.error_rate), label="candidate error rate", color="#d62728", marker="o",
                  linestyle="none", markersize=3)
    if series.margin is not None:
        axes.axhline(series.margin, color="#7f7f7f", linestyle=":", label="margin")
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("seconds since the rollout started")
    axes.set_ylabel("share / rate")
    axes.grid(alpha=0.3)
    axes.legend(loc="center left", fontsize="small", bbox_to_anchor=(1.0, 0.5))
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text: selectable, and readable by tests
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]
