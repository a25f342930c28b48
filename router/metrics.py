"""The router's Prometheus metrics, defined once here; peptalk's `/metrics` serves them with its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

REGISTRY = CollectorRegistry(auto_describe=True)  # the router's own; peptalk's registry collects it

FALLBACKS = Counter("peptalk_fallbacks_total", "Fallbacks from one model to the next", ["from_model", "to_model", "reason"], registry=REGISTRY)
QUOTA_EXHAUSTED = Counter("peptalk_quota_exhausted_total", "Models skipped because their API quota is spent (429 insufficient_quota)", ["model", "node"], registry=REGISTRY)
RETRIES = Counter("peptalk_retries_total", "Retried backend calls", ["model", "reason"], registry=REGISTRY)
BREAKER_STATE = Gauge("peptalk_breaker_state", "Node state: 0 up, 1 cooling down, 2 down", ["model", "node"], registry=REGISTRY)
NODE_OUTSTANDING = Gauge("peptalk_node_outstanding_requests", "Requests in flight per node", ["model", "node"], registry=REGISTRY)
