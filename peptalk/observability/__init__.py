"""Observability: request ids, Prometheus metrics, JSON access logs and optional LangSmith tracing."""

from peptalk.observability.http_metrics import HttpMetricsMiddleware, RequestFacts, current_request_facts
from peptalk.observability.layer import MetricsLayer
from peptalk.observability.prices import Prices, TokenPrice, load_prices
from peptalk.observability.request_id import RequestIdMiddleware
from peptalk.observability.routes import add_metrics_route
from peptalk.observability.tracing import TracingState, configure_tracing, tracing_state

__all__ = [
    "HttpMetricsMiddleware",
    "MetricsLayer",
    "Prices",
    "RequestFacts",
    "RequestIdMiddleware",
    "TokenPrice",
    "TracingState",
    "add_metrics_route",
    "configure_tracing",
    "current_request_facts",
    "load_prices",
    "tracing_state",
]
