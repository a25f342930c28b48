"""Latency analysis: per-model distributions of request latency, TTFT, per-token latency and output length."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from evaluation.records import CallRecord
from evaluation.settings import eval_default

PERCENTILES = (50, 90, 95, 99)
DEFAULT_OUTPUT_CV_THRESHOLD: float = eval_default("output_cv_threshold")  # output-token CV above this flags a model
Metric = Literal["latency_s", "ttft_s", "per_token_s", "output_tokens"]
METRICS: tuple[Metric, ...] = ("latency_s", "ttft_s", "per_token_s", "output_tokens")
METRIC_LABELS: dict[Metric, str] = {"latency_s": "request latency (s)", "ttft_s": "time to first token (s)",
                                    "per_token_s": "per-token latency (s)", "output_tokens": "output tokens"}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of an empty list")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    return float(np.percentile(np.asarray(values, dtype=float), q))


@dataclass(frozen=True)
class Distribution:
    """Summary of one sample: percentiles, mean and spread (std is the sample std, n-1)."""

    n: int
    mean: float
    std: float
    min: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    iqr: float  # p75 - p25
    cv: float | None  # std / mean; None when the mean is 0

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def summarize(values: Iterable[float | int | None]) -> Distribution | None:
    """The distribution of the non-missing `values`; None when there are none."""
    sample = np.asarray([float(value) for value in values if value is not None and math.isfinite(value)])
    if sample.size == 0:
        return None
    mean = float(sample.mean())
    std = float(sample.std(ddof=1)) if sample.size > 1 else 0.0
    p25, p50, p75, p90, p95, p99 = (float(value) for value in np.percentile(sample, [25, 50, 75, 90, 95, 99]))
    return Distribution(n=int(sample.size), mean=mean, std=std, min=float(sample.min()), p50=p50, p90=p90,
                        p95=p95, p99=p99, max=float(sample.max()), iqr=p75 - p25,
                        cv=std / mean if mean else None)


def metric_value(record: CallRecord, metric: Metric) -> float | None:
    value = record.per_token_s if metric == "per_token_s" else getattr(record, metric)
    return None if value is None else float(value)


@dataclass(frozen=True)
class ModelLatency:
    """One model's latency profile over its successful, uncached calls."""

    model: str
    calls: int
    errors: int
    cache_hits: int
    distributions: dict[Metric, Distribution | None]
    length_latency_corr: float | None  # Pearson r between output tokens and request latency
    output_length_varies: bool  # output-token CV above the threshold

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    def get(self, metric: Metric) -> Distribution | None:
        return self.distributions.get(metric)


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or np.std(xs) == 0 or np.std(ys) == 0:
        return None
    return float(np.corrcoef(xs, ys)[0, 1])


def timed(records: Iterable[CallRecord]) -> list[CallRecord]:
    """Calls that answered from a model (no error, not from the cache) and have a latency."""
    return [record for record in records if record.error is None and not record.cache_hit
            and record.latency_s is not None]


def by_model(records: Iterable[CallRecord]) -> dict[str, list[CallRecord]]:
    groups: dict[str, list[CallRecord]] = defaultdict(list)
    for record in records:
        groups[record.model].append(record)
    return dict(sorted(groups.items()))


def model_latency(model: str, records: Sequence[CallRecord], *,
                  output_cv_threshold: float = DEFAULT_OUTPUT_CV_THRESHOLD) -> ModelLatency:
    """The latency profile of `records`, all calls of `model`."""
    good = timed(records)
    distributions = {metric: summarize(metric_value(record, metric) for record in good) for metric in METRICS}
    pairs = [(float(record.output_tokens), float(record.latency_s)) for record in good
             if record.output_tokens is not None and record.latency_s is not None]
    corr = _pearson([pair[0] for pair in pairs], [pair[1] for pair in pairs])
    tokens = distributions["output_tokens"]
    varies = bool(tokens is not None and tokens.n > 1 and tokens.cv is not None and tokens.cv > output_cv_threshold)
    return ModelLatency(model=model, calls=len(records), errors=sum(record.error is not None for record in records),
                        cache_hits=sum(record.cache_hit for record in records), distributions=distributions,
                        length_latency_corr=corr, output_length_varies=varies)


def latency_by_model(records: Iterable[CallRecord], *,
                     output_cv_threshold: float = DEFAULT_OUTPUT_CV_THRESHOLD) -> list[ModelLatency]:
    """One latency profile per model, sorted by model name."""
    return [model_latency(model, group, output_cv_threshold=output_cv_threshold)
            for model, group in by_model(records).items()]


def latency_by_hour(records: Iterable[CallRecord], metric: Metric = "latency_s") -> dict[str, dict[int, Distribution]]:
    """Per model, the distribution of `metric` for each hour of the day (UTC) the calls started in."""
    buckets: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in timed(records):
        value = metric_value(record, metric)
        if record.started_at is None or value is None:
            continue
        buckets[record.model][record.started_at.hour].append(value)
    result: dict[str, dict[int, Distribution]] = {}
    for model, hours in sorted(buckets.items()):
        result[model] = {}
        for hour, values in sorted(hours.items()):
            summary = summarize(values)
            if summary is not None:
                result[model][hour] = summary
    return result


def throughput_tok_s(records: Iterable[CallRecord]) -> float | None:
    """Decode throughput: generated tokens after the first over the time spent generating them."""
    tokens = 0.0
    seconds = 0.0
    for record in timed(records):
        if record.per_token_s is None or record.output_tokens is None:
            continue
        tokens += record.output_tokens - 1
        seconds += record.per_token_s * (record.output_tokens - 1)
    return tokens / seconds if seconds > 0 else None


def latency_rows(profiles: Iterable[ModelLatency]) -> list[dict[str, object]]:
    """Flat rows (model, metric, n, mean, ... cv) for CSV and tables."""
    rows: list[dict[str, object]] = []
    for profile in profiles:
        for metric in METRICS:
            summary = profile.get(metric)
            if summary is not None:
                rows.append({"model": profile.model, "metric": metric, **summary.as_dict(),
                             "calls": profile.calls, "errors": profile.errors,
                             "output_length_varies": profile.output_length_varies,
                             "length_latency_corr": profile.length_latency_corr})
    return rows
