"""peptalk as a guest in a host's FastAPI app: `include_peptalk(app)`, and the mounted-app fallback.

A guest changes nothing app-wide: no middleware, exception handler or logging set-up of the host is touched.
peptalk's own protections (request ids, metrics, error answers, envelope check, rate limits) wrap only its
own routes; authentication is the host's, through the `dependencies` it passes. See docs/plugin.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, params
from prometheus_client import CollectorRegistry
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from peptalk import metrics as peptalk_metrics
from peptalk.endpoints import CHAIN_PATH, add_chain_routes, error_response
from peptalk.health import add_health_routes
from peptalk.observability import HttpMetricsMiddleware, RequestIdMiddleware, add_metrics_route
from peptalk.security.asgi import send_json
from peptalk.security.envelope import EnvelopeMiddleware
from peptalk.security.limiter import build_limiter
from peptalk.security.parsed import ParseRequestMiddleware
from peptalk.security.rate_limit import RateLimitMiddleware
from peptalk.service import PepTalk
from peptalk.settings import Settings

log = logging.getLogger("peptalk.plugin")

NOT_STARTED = ("peptalk is not started: the host app's lifespan has not run it. Call include_peptalk(app) "
               "before the app starts, and run the app with its lifespan (uvicorn does; TestClient needs `with`).")
MOUNTED = ("peptalk's app got a request before its lifespan ran: it is mounted as a sub-app (Starlette never runs "
           "a mounted app's lifespan) or served without lifespan events. peptalk started now, on this first "
           "request, but it cannot stop with the host: its shadow queue is not drained at shutdown. "
           "Use peptalk.include_peptalk(app, prefix=...) instead.")


def include_peptalk(app: FastAPI, prefix: str = "/ai", *, settings: Settings | None = None,
                    peptalk: PepTalk | None = None, dependencies: Sequence[params.Depends] = (),
                    health: bool = True, metrics: bool = True,
                    registry: CollectorRegistry | None = None) -> PepTalk:
    """Serves peptalk inside `app` under `prefix`, started and stopped by `app`'s own lifespan.

    Adds LangServe's endpoints at `{prefix}/peptalk/...`, and with `health`, `{prefix}/healthz|readyz|models`,
    with `metrics`, `{prefix}/metrics` (peptalk's metrics only). Every route runs `dependencies` (the host's
    authentication) first. `registry`: the host's prometheus registry, to expose peptalk's metrics there too;
    by default they stay in peptalk's own registry. Call it before the app starts. Returns the `PepTalk`, for
    in-process calls from the host's own routes and workers.
    """
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"prefix must start with '/' and not end with one, got {prefix!r}")
    if peptalk is None:
        peptalk = PepTalk(settings, registry=registry)
    elif registry is not None:
        peptalk_metrics.expose_in(registry)
    if any(key.get_secret_value() for key in peptalk.settings.api_keys):
        log.warning("PEPTALK_API_KEYS is not enforced inside a host app: the host's dependencies authenticate")
    deps = list(dependencies)
    before = {id(route) for route in app.router.routes}
    add_chain_routes(app, peptalk, prefix=prefix, dependencies=deps)
    if health:
        add_health_routes(app, peptalk.router, prefix=prefix, dependencies=deps)
    if metrics:
        add_metrics_route(app, peptalk_metrics.REGISTRY, prefix=prefix, dependencies=deps)
    added: list[BaseRoute] = [route for route in app.router.routes if id(route) not in before]
    for route in added:
        if isinstance(route, Route):
            route.app = guest_route(route.app, peptalk, chain_path=prefix + CHAIN_PATH)
    tie_to_lifespan(app, peptalk)
    return peptalk


def tie_to_lifespan(app: FastAPI, peptalk: PepTalk) -> None:
    """Wraps the host's lifespan: peptalk starts before it and stops after it, so the host's start-up and
    shutdown code can use peptalk too; the host's own lifespan still runs, and its state is kept."""
    host_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: Any) -> AsyncIterator[Any]:
        async with peptalk, host_lifespan(host) as state:
            yield state

    app.router.lifespan_context = lifespan


def guest_route(route_app: Any, peptalk: PepTalk, *, chain_path: str) -> Any:
    """One route's app wrapped in peptalk's per-route layers, outermost first: request id -> metrics ->
    start check and error answers -> the one parse of the body -> rate limit -> envelope check -> the route
    (host dependencies, LangServe)."""
    settings = peptalk.settings
    wrapped: Any = EnvelopeMiddleware(route_app)
    limiter = build_limiter(settings)  # in-process buckets, or shared ones in Redis (PEPTALK_RATE_LIMIT_STORAGE_URL)
    if limiter is not None:
        wrapped = RateLimitMiddleware(wrapped, limiter=limiter)
    wrapped = ParseRequestMiddleware(wrapped, chain_path=chain_path, max_body_bytes=settings.max_body_bytes)
    wrapped = GuestErrors(wrapped, peptalk)
    return RequestIdMiddleware(HttpMetricsMiddleware(wrapped))


class GuestErrors:
    """ASGI wrapper of a guest route: a 503 before peptalk starts, and peptalk's error answers (422, 502, 503)
    for the chain's errors, without touching the host's exception handlers."""

    def __init__(self, app: Any, peptalk: PepTalk) -> None:
        self.app = app
        self.peptalk = peptalk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.peptalk.started:
            await send_json(send, 503, {"detail": NOT_STARTED})
            return
        response_started = False

        async def watched(message: MutableMapping[str, Any]) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            response = error_response(exc)
            if response is None or response_started:
                raise
            await response(scope, receive, send)


class StartOnFirstRequest:
    """ASGI middleware of `create_app`'s app: when a request comes before the lifespan ran (the app is mounted
    as a sub-app), starts peptalk then and there, and warns once that it cannot stop with the host."""

    def __init__(self, app: Any, *, peptalk: PepTalk) -> None:
        self.app = app
        self.peptalk = peptalk
        self.warned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.peptalk.started:
            if not self.warned:
                self.warned = True
                log.warning(MOUNTED)
            await self.peptalk.start()
        await self.app(scope, receive, send)
