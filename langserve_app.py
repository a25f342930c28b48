"""The peptalk HTTP service: the pep-talk chain served by LangServe, plus health endpoints.

Run with `uvicorn langserve_app:create_app --factory`, `python langserve_app.py` or `peptalk serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from pydantic import ValidationError

from peptalk.chain import build_chain
from peptalk.health import routes as health_routes
from peptalk.logs import configure_logging
from peptalk.observability import HttpMetricsMiddleware, MetricsLayer, RequestIdMiddleware, configure_tracing
from peptalk.observability import routes as observability_routes
from peptalk.schema import RequestLimits, request_model_for
from peptalk.security import install_protection
from peptalk.settings import Settings, get_settings
from router.call import ChatLayer
from router.errors import UnknownModelError
from router.registry import build_backends
from router.router import Router


CHAIN_PATH = "/peptalk"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app; backends are loaded or connected in the lifespan, never at import."""
    from langserve import add_routes

    settings = settings or get_settings()
    configure_logging(settings.log_level)
    router = Router(build_backends(settings), default_model=settings.default_model)
    limits = RequestLimits(settings.max_items_per_list, settings.max_item_chars, settings.max_total_chars)
    # Serving layers wrap the router, innermost first; each feature adds its layer here.
    # Order: shadow -> cache -> router, so the shadow log sees cache hits and candidates never touch the cache.
    layer: ChatLayer = router
    # -- semantic cache (issue 4)
    # -- shadow traffic (issue 9)
    layer = MetricsLayer(layer)  # outermost: sees the model that really served, cache hits included
    chain = build_chain(router, layer=layer, request_model=request_model_for(limits))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await router.start()
        # -- start further services here (cache index, shadow writer ...)
        try:
            yield
        finally:
            # -- stop further services here, in reverse order
            await router.aclose()

    configure_tracing()
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

    @app.exception_handler(ValidationError)
    async def invalid_input(_: Request, exc: ValidationError) -> JSONResponse:
        # LangServe validates batch inputs without catching the error; answer 422 like for invoke.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(UnknownModelError)
    async def unknown_model(_: Request, exc: UnknownModelError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "known_models": exc.known}, status_code=422)

    # -- middleware (issue 8: request ids, metrics, API keys, rate limits)
    # Starlette runs the last added first: request id -> metrics -> API key -> rate limit -> routes.
    install_protection(app, settings, prefix=CHAIN_PATH)
    app.add_middleware(HttpMetricsMiddleware)  # type: ignore[arg-type]
    app.add_middleware(RequestIdMiddleware)  # type: ignore[arg-type]
    add_routes(app, chain, path=CHAIN_PATH,
               disabled_endpoints=None if settings.playground_enabled else ["playground"])
    app.include_router(health_routes)
    # -- further routes (issue 8: /metrics)
    app.include_router(observability_routes)
    return app


def main() -> None:
    """Serves on `PEPTALK_HOST:PEPTALK_PORT`."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
