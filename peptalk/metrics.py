"""Every Prometheus metric peptalk exports, defined once; features update them, `/metrics` serves them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# The router defines its own metrics (it imports nothing of peptalk); they share the default registry.
from router.metrics import BREAKER_STATE, FALLBACKS, NODE_OUTSTANDING, RETRIES

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)

# Requests, per route and served model.
REQUESTS = Counter("peptalk_requests_total", "Pep-talk requests answered", ["route", "model", "status"])
REQUEST_ERRORS = Counter("peptalk_request_errors_total", "Pep-talk requests that failed", ["route", "model", "error"])
REQUEST_LATENCY = Histogram("peptalk_request_latency_seconds", "Whole-request latency", ["route", "model"],
                            buckets=LATENCY_BUCKETS)
TIME_TO_FIRST_TOKEN = Histogram("peptalk_time_to_first_token_seconds", "Time to the first generated token", ["model"],
                                buckets=LATENCY_BUCKETS)
TOKENS = Counter("peptalk_tokens_total", "Tokens in and out", ["model", "direction"])
ESTIMATED_COST = Counter("peptalk_estimated_cost_usd_total", "Estimated cost from the cost model's prices", ["model"])

# Semantic cache.
CACHE_LOOKUPS = Counter("peptalk_cache_lookups_total", "Cache lookups by result", ["result"])  # hit|miss|bypass|refresh|error
CACHE_LOOKUP_SECONDS = Histogram("peptalk_cache_lookup_seconds", "Cache lookup time, embedding included",
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))
CACHE_ENTRIES = Gauge("peptalk_cache_entries", "Entries in the semantic cache")
CACHE_HITS = Counter("peptalk_cache_hits_total", "Cache hits by how they were found", ["kind"])  # exact|semantic
CACHE_AUDITS = Counter("peptalk_cache_audits_total", "Audited semantic hits", ["result"])  # logged|error|dropped

# Shadow traffic.
SHADOW_QUEUE_DEPTH = Gauge("peptalk_shadow_queue_depth", "Shadow jobs waiting")
SHADOW_DROPPED = Counter("peptalk_shadow_dropped_total", "Shadow jobs dropped", ["reason"])
SHADOW_CALLS = Counter("peptalk_shadow_calls_total", "Shadow calls made", ["model", "outcome"])
