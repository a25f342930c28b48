"""The peptalk HTTP service: peptalk included in an empty FastAPI host, which adds what a process owner adds.

Run with `uvicorn langserve_app:create_app --factory`, `python langserve_app.py` or `peptalk serve`.
"""

from __future__ import annotations

from typing import Any

import prometheus_client
from fastapi import FastAPI

from peptalk.docs_pages import install_docs
from peptalk.endpoints import CHAIN_PATH
from peptalk.logs import configure_logging
from peptalk.observability import HttpMetricsMiddleware, RequestIdMiddleware, add_metrics_route, configure_tracing
from peptalk.plugin import StartOnFirstRequest, include_peptalk
from peptalk.security.setup import install_api_keys
from peptalk.service import PepTalk
from peptalk.settings import Settings, get_settings

__all__ = ["CHAIN_PATH", "ServiceApp", "create_app", "main"]


class ServiceApp(FastAPI):
    """The standalone service's app; `peptalk` is the `PepTalk` it serves (for the process owner and tests)."""

    def __init__(self, peptalk: PepTalk, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.peptalk = peptalk


def create_app(settings: Settings | None = None) -> ServiceApp:
    """The standalone service: an empty FastAPI host with peptalk included at the root by `include_peptalk`,
    the same call a host backend makes; backends start in the lifespan, never at import.

    Everything peptalk serves (its routes, their per-route protections, the rate limiter, the exact-hit fast
    path, the admin routes) is built by `include_peptalk`. What is added here is what a process owner adds:
    logging, request ids and HTTP metrics for every request, the API keys (the owner's authentication), the
    global `/metrics` of prometheus-client's registry, the docs pages, and the mounted-app fallback. To serve
    peptalk inside another FastAPI app, use `peptalk.include_peptalk` rather than mounting this app: Starlette
    never runs a mounted app's lifespan (mounted, this app starts on its first request and cannot stop
    cleanly; see docs/plugin.md).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    configure_tracing()  # before include_peptalk: the fast path stays off while LangSmith tracing is on
    peptalk = PepTalk(settings, registry=prometheus_client.REGISTRY)
    docs = settings.docs_enabled
    app = ServiceApp(
        peptalk,
        title="peptalk",
        description="Daily pep talks from small language models, with GPT-4 as one backend among several.",
        docs_url=None,  # /docs and /redoc: install_docs serves them without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    if docs:
        install_docs(app)
    include_peptalk(app, "", peptalk=peptalk, metrics=False, observe=False)  # starts and stops with the lifespan
    add_metrics_route(app, prometheus_client.REGISTRY)
    # Starlette runs the last added first: start check -> request id -> metrics -> API key -> the route's own
    # layers (`peptalk.plugin.guard_route`).
    install_api_keys(app, settings)
    app.add_middleware(HttpMetricsMiddleware)  # type: ignore[arg-type]
    app.add_middleware(RequestIdMiddleware)  # type: ignore[arg-type]
    app.add_middleware(StartOnFirstRequest, peptalk=peptalk)  # type: ignore[arg-type]
    return app


def main() -> None:
    """Serves on `PEPTALK_HOST:PEPTALK_PORT`."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
