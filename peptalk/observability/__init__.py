"""Observability: request ids, Prometheus metrics, JSON access logs and optional LangSmith tracing."""

from peptalk.observability.http_metrics import HttpMetricsMiddleware, RequestFacts, current_request_facts
from peptalk.observability.layer import MetricsLayer
from peptalk.observability.prices import estimated_cost_usd, price_of
from peptalk.observability.request_id import RequestIdMiddleware
from peptalk.observability.routes import routes
from peptalk.observability.tracing import TracingState, configure_tracing, tracing_state

__all__ = [
    "HttpMetricsMiddleware",
    "MetricsLayer",
    "RequestFacts",
    "RequestIdMiddleware",
    "TracingState",
    "configure_tracing",
    "current_request_facts",
    "estimated_cost_usd",
    "price_of",
    "routes",
    "tracing_state",
]
