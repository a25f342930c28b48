"""The peptalk HTTP service: the pep-talk chain served by LangServe, plus health endpoints.

Run with `uvicorn langserve_app:create_app --factory`, `python langserve_app.py` or `peptalk serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import prometheus_client
from fastapi import FastAPI

from peptalk.docs_pages import install_docs
from peptalk.endpoints import CHAIN_PATH, add_chain_routes, add_error_handlers
from peptalk.health import add_health_routes
from peptalk.logs import configure_logging
from peptalk.observability import HttpMetricsMiddleware, RequestIdMiddleware, add_metrics_route, configure_tracing
from peptalk.plugin import StartOnFirstRequest
from peptalk.security import install_protection
from peptalk.service import PepTalk
from peptalk.settings import Settings, get_settings

__all__ = ["CHAIN_PATH", "create_app", "main"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The standalone service: a `PepTalk` behind its own FastAPI app; backends start in the lifespan, never at import.

    As the process's owner it configures logging and exposes peptalk's metrics in prometheus-client's global
    registry. To serve peptalk inside another FastAPI app, use `peptalk.include_peptalk` rather than mounting
    this app: Starlette never runs a mounted app's lifespan (mounted, this app starts on its first request and
    cannot stop cleanly; see docs/plugin.md).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    peptalk = PepTalk(settings, registry=prometheus_client.REGISTRY)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with peptalk:  # starts router -> cache -> shadow -> rollout; stops in reverse, draining the shadow queue
            yield

    tracing = configure_tracing()
    docs = settings.docs_enabled
    app = FastAPI(
        title="peptalk",
        description="Daily pep talks from small language models, with GPT-4 as one backend among several.",
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: install_docs serves them without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    if docs:
        install_docs(app)
    app.state.peptalk = peptalk
    app.state.settings = settings
    app.state.router = peptalk.router
    app.state.semantic_cache = peptalk.stack.service("cache")
    app.state.cache_layer = cache_layer = peptalk.stack.layer("cache")
    app.state.shadow = peptalk.stack.layer("shadow")
    app.state.rollout = peptalk.stack.service("rollout")
    add_error_handlers(app)

    # -- middleware (issue 8: request ids, metrics, API keys, rate limits, the exact-hit fast path)
    # Starlette runs the last added first: start check -> request id -> metrics -> API key -> the one parse of
    # the request -> rate limit -> envelope -> exact-hit fast path -> routes.
    if cache_layer is not None and settings.cache_fast_path and not tracing.enabled:
        from peptalk.cache import SemanticCacheLayer
        from peptalk.fast_path import ExactHitFastPath
        from peptalk.wire import LangServeAnswers

        assert isinstance(cache_layer, SemanticCacheLayer)
        app.add_middleware(ExactHitFastPath, layer=peptalk.stack.top, cache_layer=cache_layer,  # type: ignore[arg-type]
                           plan=peptalk.chain_plan, known_models=peptalk.router.known_models(),
                           answers=LangServeAnswers(peptalk.runnable, path=CHAIN_PATH),
                           rollout=None if app.state.rollout is None else app.state.rollout.layer)
    install_protection(app, settings, prefix=CHAIN_PATH)
    app.add_middleware(HttpMetricsMiddleware)  # type: ignore[arg-type]
    app.add_middleware(RequestIdMiddleware)  # type: ignore[arg-type]
    app.add_middleware(StartOnFirstRequest, peptalk=peptalk)  # type: ignore[arg-type]
    add_chain_routes(app, peptalk)
    add_health_routes(app, peptalk.router)
    add_metrics_route(app, prometheus_client.REGISTRY)
    from peptalk.rollout.routes import routes as rollout_routes  # /rollout, /rollout/status.json (admin key)

    app.include_router(rollout_routes)
    # -- issue 19: the admin erasure endpoint (DELETE /admin/users/{user_id}, behind PEPTALK_ADMIN_API_KEYS)
    from peptalk.erasure.routes import routes as erasure_routes

    app.include_router(erasure_routes)
    return app


def main() -> None:
    """Serves on `PEPTALK_HOST:PEPTALK_PORT`."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
