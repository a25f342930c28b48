"""Every Prometheus metric peptalk exports, defined once in peptalk's own registry; `/metrics` serves them.

They never land in prometheus-client's global registry by themselves, so importing peptalk into a host
process leaves the host's metrics alone. `expose_in(registry)` adds them to a registry of the caller's
choice: the standalone service exposes them in the global one, beside the process metrics.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from peptalk.errors import MetricsClash
from router import metrics as router_metrics
from router.metrics import BREAKER_STATE, FALLBACKS, NODE_OUTSTANDING, RETRIES  # noqa: F401  (re-exported)

REGISTRY = CollectorRegistry(auto_describe=True)  # peptalk's own; every metric below lives here only


class _RouterMetrics(Collector):
    """The router's metrics (in `router.metrics.REGISTRY`, since the router imports nothing of peptalk)."""

    def collect(self) -> Iterable[Metric]:
        return router_metrics.REGISTRY.collect()


REGISTRY.register(_RouterMetrics())
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)

# Requests, per route and served model.
REQUESTS = Counter("peptalk_requests_total", "Pep-talk requests answered", ["route", "model", "status"],
                   registry=REGISTRY)
REQUEST_ERRORS = Counter("peptalk_request_errors_total", "Pep-talk requests that failed", ["route", "model", "error"],
                         registry=REGISTRY)
REQUEST_LATENCY = Histogram("peptalk_request_latency_seconds", "Whole-request latency", ["route", "model"],
                            buckets=LATENCY_BUCKETS, registry=REGISTRY)
TIME_TO_FIRST_TOKEN = Histogram("peptalk_time_to_first_token_seconds", "Time to the first generated token", ["model"],
                                buckets=LATENCY_BUCKETS, registry=REGISTRY)
TOKENS = Counter("peptalk_tokens_total", "Tokens in and out", ["model", "direction"], registry=REGISTRY)
ESTIMATED_COST = Counter("peptalk_estimated_cost_usd_total", "Estimated cost from the cost model's prices", ["model"],
                         registry=REGISTRY)

# Semantic cache.
CACHE_LOOKUPS = Counter("peptalk_cache_lookups_total", "Cache lookups by result", ["result"],  # hit|miss|bypass|refresh|error
                        registry=REGISTRY)
CACHE_LOOKUP_SECONDS = Histogram("peptalk_cache_lookup_seconds", "Cache lookup time, embedding included",
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1), registry=REGISTRY)
CACHE_ENTRIES = Gauge("peptalk_cache_entries", "Entries in the semantic cache", registry=REGISTRY)
CACHE_HITS = Counter("peptalk_cache_hits_total", "Cache hits by how they were found", ["kind"],  # exact|semantic
                     registry=REGISTRY)
CACHE_AUDITS = Counter("peptalk_cache_audits_total", "Audited semantic hits", ["result"],  # logged|error|dropped
                       registry=REGISTRY)

# Shadow traffic.
SHADOW_QUEUE_DEPTH = Gauge("peptalk_shadow_queue_depth", "Shadow jobs waiting", registry=REGISTRY)
SHADOW_DROPPED = Counter("peptalk_shadow_dropped_total", "Shadow jobs dropped", ["reason"], registry=REGISTRY)
SHADOW_CALLS = Counter("peptalk_shadow_calls_total", "Shadow calls made", ["model", "outcome"], registry=REGISTRY)


class _Forward(Collector):
    """Hands another registry peptalk's metrics, read from `REGISTRY` at each scrape."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()

    def describe(self) -> Iterable[Metric]:
        return REGISTRY.collect()  # the names, so a clash with a metric already there is refused at once


_exposed_in: weakref.WeakSet[CollectorRegistry] = weakref.WeakSet()


def expose_in(registry: CollectorRegistry) -> None:
    """Adds peptalk's metrics to `registry` (idempotent); `MetricsClash` when one of their names is taken there."""
    if registry is REGISTRY or registry in _exposed_in:
        return
    try:
        registry.register(_Forward())
    except ValueError as exc:
        raise MetricsClash(f"peptalk's metrics clash with a metric already in the given registry: {exc}") from exc
    _exposed_in.add(registry)
