"""`GET /metrics`: every peptalk metric in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

routes = APIRouter(tags=["observability"])


@routes.get("/metrics", response_class=Response)
async def prometheus_metrics() -> Response:
    """Prometheus metrics: requests, errors, latency, time to first token, tokens, cost, cache, router, shadow."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
