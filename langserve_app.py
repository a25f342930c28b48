"""The peptalk HTTP service: the pep-talk chain served by LangServe, plus health endpoints.

Run with `uvicorn langserve_app:create_app --factory`, `python langserve_app.py` or `peptalk serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from pydantic import ValidationError

from peptalk.chain import build_chain
from peptalk.health import routes as health_routes
from peptalk.logs import configure_logging
from peptalk.observability import (HttpMetricsMiddleware, MetricsLayer, RequestIdMiddleware, configure_tracing,
                                   load_prices)
from peptalk.observability import routes as observability_routes
from peptalk.schema import RequestLimits, request_model_for
from peptalk.security import install_protection
from peptalk.settings import Settings, get_settings
from peptalk.shadow.factory import shadow_layer
from router.call import ChatLayer
from router.errors import AllBackendsFailed, StreamInterrupted, UnknownModelError
from router.registry import build_router
from router.router import Router, seconds_header


CHAIN_PATH = "/peptalk"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app; backends are loaded or connected in the lifespan, never at import."""
    from langserve import add_routes

    settings = settings or get_settings()
    configure_logging(settings.log_level)
    router = build_router(settings)
    limits = RequestLimits(settings.max_items_per_list, settings.max_item_chars, settings.max_total_chars)
    # Serving layers wrap the router, innermost first; each feature adds its layer here.
    # Order: shadow -> cache -> router, so the shadow log sees cache hits and candidates never touch the cache.
    layer: ChatLayer = router
    # -- semantic cache (issue 4)
    semantic_cache, cache_layer = None, None
    if settings.cache_enabled:
        from peptalk.cache import SemanticCacheLayer, build_semantic_cache, pinned_or_default_model

        semantic_cache = build_semantic_cache(settings)
        layer = cache_layer = SemanticCacheLayer(
            layer, semantic_cache, model_for=lambda call: pinned_or_default_model(router, call),
            scope=settings.cache_scope, model_in_key=settings.cache_model_in_key)
    # -- shadow traffic (issue 9)
    shadow = shadow_layer(settings, layer, router)
    layer = shadow or layer
    # -- metrics (issue 8)
    layer = MetricsLayer(layer, prices=load_prices(settings.price_table))  # outermost: sees what really served
    chain = build_chain(router, layer=layer, request_model=request_model_for(limits))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await router.start()
        # -- start further services here (cache index, shadow writer ...)
        if semantic_cache is not None:
            await semantic_cache.start()
        if shadow is not None:
            await shadow.start()
        try:
            yield
        finally:
            # -- stop further services here, in reverse order
            if shadow is not None:
                await shadow.aclose()  # drains the queue and commits; needs the router still open
            if semantic_cache is not None:
                await semantic_cache.aclose()
            await router.aclose()

    tracing = configure_tracing()
    docs = settings.docs_enabled
    app = FastAPI(
        title="peptalk",
        description="Daily pep talks from small language models, with GPT-4 as one backend among several.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.router = router
    app.state.semantic_cache = semantic_cache
    app.state.cache_layer = cache_layer
    app.state.shadow = shadow

    @app.exception_handler(ValidationError)
    async def invalid_input(_: Request, exc: ValidationError) -> JSONResponse:
        # LangServe validates batch inputs without catching the error; answer 422 like for invoke.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(UnknownModelError)
    async def unknown_model(_: Request, exc: UnknownModelError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "known_models": exc.known}, status_code=422)

    @app.exception_handler(AllBackendsFailed)
    async def all_backends_failed(_: Request, exc: AllBackendsFailed) -> JSONResponse:
        retry_after = seconds_header(exc.retry_after_s)
        return JSONResponse({"detail": str(exc), "attempts": exc.attempts}, status_code=503,
                            headers={"Retry-After": retry_after} if retry_after else None)

    @app.exception_handler(StreamInterrupted)
    async def stream_interrupted(_: Request, exc: StreamInterrupted) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "model": exc.model, "reason": exc.kind}, status_code=502)

    # -- middleware (issue 8: request ids, metrics, API keys, rate limits, the exact-hit fast path)
    # Starlette runs the last added first: request id -> metrics -> API key -> rate limit -> envelope
    # -> exact-hit fast path -> routes.
    if cache_layer is not None and settings.cache_fast_path and not tracing.enabled:
        from peptalk.fast_path import ChainCalls, ExactHitFastPath

        app.add_middleware(ExactHitFastPath, prefix=CHAIN_PATH, layer=layer, cache_layer=cache_layer,  # type: ignore[arg-type]
                           calls=ChainCalls(request_model_for(limits), router.known_models()),
                           max_body_bytes=settings.max_body_bytes)
    install_protection(app, settings, prefix=CHAIN_PATH)
    app.add_middleware(HttpMetricsMiddleware)  # type: ignore[arg-type]
    app.add_middleware(RequestIdMiddleware)  # type: ignore[arg-type]
    add_routes(app, chain, path=CHAIN_PATH, dependencies=[Depends(refuse_when_unroutable)],
               disabled_endpoints=None if settings.playground_enabled else ["playground"])
    app.include_router(health_routes)
    # -- further routes (issue 8: /metrics)
    app.include_router(observability_routes)
    # -- issue 19: the admin erasure endpoint (DELETE /admin/users/{user_id}, behind PEPTALK_ADMIN_API_KEYS)
    from peptalk.erasure.routes import routes as erasure_routes

    app.include_router(erasure_routes)
    return app


async def refuse_when_unroutable(request: Request) -> None:
    """A fast 503, before a stream's headers go out, when every node the call could use is cooling down.

    LangServe answers a failure inside a stream with a generic `error` event after a 200, so the case
    that can be known up front (breakers open) is answered here with a real status and reason.
    """
    from fastapi import HTTPException

    if request.method != "POST" or not request.url.path.endswith(("/invoke", "/batch", "/stream", "/stream_log",
                                                                    "/stream_events")):
        return
    try:
        body = await request.json()  # Starlette caches the body, so LangServe reads it again for free
    except ValueError:
        return  # LangServe answers malformed bodies itself
    router: Router = request.app.state.router
    pinned_models = _pinned_models(body)
    try:
        reasons = [router.unavailable_reason(pinned) for pinned in pinned_models]
    except UnknownModelError:
        return  # LangServe's config validation answers 422
    if all(reason is not None for reason in reasons):
        refs = [ref for pinned in pinned_models for ref in router.candidate_models(pinned)]
        retry_after = seconds_header(router.seconds_until_available(refs))
        raise HTTPException(503, detail=f"no backend could answer: {reasons[0]}",
                            headers={"Retry-After": retry_after} if retry_after else None)


def _pinned_models(body: object) -> list[str | None]:
    """The model each input of a LangServe request body pins (None: unpinned); a batch may carry a config per input."""
    config = body.get("config") if isinstance(body, dict) else None
    configs = config if isinstance(config, list) else [config]
    pinned: list[str | None] = []
    for entry in configs:
        configurable = entry.get("configurable") if isinstance(entry, dict) else None
        model = configurable.get("model") if isinstance(configurable, dict) else None
        pinned.append(model if isinstance(model, str) else None)
    return list(dict.fromkeys(pinned)) or [None]


def main() -> None:
    """Serves on `PEPTALK_HOST:PEPTALK_PORT`."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
