"""`GET /metrics`: peptalk's metrics (and whatever else the registry holds) in the Prometheus text format."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, params
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def add_metrics_route(app: FastAPI, registry: CollectorRegistry, *, prefix: str = "",
                      dependencies: Sequence[params.Depends] = ()) -> None:
    """Adds `GET {prefix}/metrics`, serving `registry`, behind `dependencies`."""

    async def prometheus_metrics() -> Response:
        """Prometheus metrics: requests, errors, latency, time to first token, tokens, cost, cache, router, shadow."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(prefix + "/metrics", prometheus_metrics, methods=["GET"], response_class=Response,
                      tags=["observability"], dependencies=list(dependencies))
