"""peptalk's one assembly: `include_peptalk(app)` serves it inside any FastAPI app, and the mounted-app fallback.

The standalone service (`langserve_app.create_app`) is an empty FastAPI host that calls the same
`include_peptalk`, then adds only what a process owner adds (logging, request ids and metrics app-wide, API
keys, docs). A guest changes nothing app-wide: no middleware, exception handler or logging set-up of the host
is touched. peptalk's own protections (request ids, metrics, error answers, envelope check, rate limits, the
exact-hit fast path) wrap only its own routes; authentication is the host's, through the `dependencies` it
passes. See docs/plugin.md.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, MutableMapping, Sequence
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
                    health: bool = True, metrics: bool = True, fast_path: bool | None = None, admin: bool = True,
                    observe: bool = True, registry: CollectorRegistry | None = None) -> PepTalk:
    """Serves peptalk inside `app` under `prefix`, started and stopped by `app`'s own lifespan.

    Adds LangServe's endpoints at `{prefix}/peptalk/...`; with `health`, `{prefix}/healthz|readyz|models`;
    with `metrics`, `{prefix}/metrics` (peptalk's metrics only); with `admin`, the admin routes
    `{prefix}/rollout`, `{prefix}/rollout/status.json` and `DELETE {prefix}/admin/users/{user_id}` (each behind
    PEPTALK_ADMIN_API_KEYS as well). With `fast_path` (and PEPTALK_CACHE_FAST_PATH, the cache on, tracing off),
    exact cache hits are answered in front of LangServe; it answers before route dependencies run, so by
    default (None) it is on only without `dependencies` (a host that authenticates in middleware, or the
    standalone service), and asking for it with `dependencies` is refused. Every route runs `dependencies` (the
    host's authentication) first, and is wrapped in peptalk's own layers (`guard_route`); `observe=False` leaves out
    the request id and HTTP metrics wrappers, for an owner that observes every request app-wide (`create_app`).
    `registry`: the host's prometheus registry, to expose peptalk's metrics there too; by default they stay in
    peptalk's own registry. Give `settings` or a built `peptalk`, not both. Call it before the app starts.
    Returns the `PepTalk`, for in-process calls from the host's own routes and workers.
    """
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"prefix must start with '/' and not end with one, got {prefix!r}")
    if fast_path and dependencies:
        raise ValueError("fast_path=True with dependencies: the fast path answers exact cache hits before route "
                         "dependencies run, so it would skip the host's authentication; authenticate in a "
                         "middleware instead, or leave fast_path out")
    if fast_path is None:
        fast_path = not dependencies
    if peptalk is None:
        peptalk = PepTalk(settings, registry=registry)
    else:
        if settings is not None and settings is not peptalk.settings:
            raise ValueError("include_peptalk got both settings= and peptalk=: a built PepTalk carries its own "
                             "settings; pass one or the other")
        if registry is not None:
            peptalk_metrics.expose_in(registry)
    if observe and any(key.get_secret_value() for key in peptalk.settings.api_keys):  # a host, not `create_app`
        log.warning("PEPTALK_API_KEYS is not enforced inside a host app: the host's dependencies authenticate")
    deps = list(dependencies)
    before = {id(route) for route in app.router.routes}
    chain_routes = add_chain_routes(app, peptalk, prefix=prefix, dependencies=deps)
    if health:
        from peptalk.rollout.factory import RolloutService

        rollout_service = peptalk.service(RolloutService)
        add_health_routes(app, peptalk.router, prefix=prefix, dependencies=deps,
                          rollout_state=None if rollout_service is None else rollout_service.layer.live.describe)
    if metrics:
        add_metrics_route(app, peptalk_metrics.REGISTRY, prefix=prefix, dependencies=deps)
    if admin:
        from peptalk.erasure.routes import erasure_routes
        from peptalk.rollout.factory import RolloutService
        from peptalk.rollout.routes import rollout_routes

        rollout = rollout_routes(peptalk.service(RolloutService), peptalk.settings.admin_api_keys)
        app.include_router(rollout, prefix=prefix, dependencies=deps)
        app.include_router(erasure_routes(peptalk), prefix=prefix, dependencies=deps)
    chain_path = prefix + CHAIN_PATH
    answer_hits = exact_hit_fast_path(peptalk, chain_path) if fast_path else None
    chain_ids = {id(route) for route in chain_routes}
    for route in app.router.routes:
        if id(route) not in before and isinstance(route, Route):
            inner = answer_hits(route.app) if answer_hits is not None and id(route) in chain_ids else route.app
            route.app = guard_route(inner, peptalk, chain_path=chain_path, observe=observe)
    tie_to_lifespan(app, peptalk)
    return peptalk


def exact_hit_fast_path(peptalk: PepTalk, chain_path: str) -> Callable[[Any], Any] | None:
    """A wrapper that answers exact cache hits in front of a chain route (`peptalk.fast_path`); None when the cache
    is off, PEPTALK_CACHE_FAST_PATH=false, or LangSmith tracing is on (a request answered there leaves no run)."""
    from peptalk.observability import tracing_state

    if not peptalk.settings.cache_fast_path or tracing_state(os.environ).enabled:
        return None
    from peptalk.cache import SemanticCacheLayer
    from peptalk.fast_path import ExactHitFastPath
    from peptalk.wire import LangServeAnswers

    cache_layer = peptalk.layer(SemanticCacheLayer)
    if cache_layer is None:
        return None
    from peptalk.rollout.factory import RolloutService

    answers = LangServeAnswers(peptalk.runnable, path=chain_path)
    known_models = peptalk.router.known_models()
    rollout_service = peptalk.service(RolloutService)
    rollout = None if rollout_service is None else rollout_service.layer
    return lambda route_app: ExactHitFastPath(route_app, layer=peptalk.stack.top, cache_layer=cache_layer,
                                              plan=peptalk.chain_plan, known_models=known_models, answers=answers,
                                              rollout=rollout)


def tie_to_lifespan(app: FastAPI, peptalk: PepTalk) -> None:
    """Wraps the host's lifespan: peptalk starts before it and stops after it, so the host's start-up and
    shutdown code can use peptalk too; the host's own lifespan still runs, and its state is kept."""
    host_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: Any) -> AsyncIterator[Any]:
        async with peptalk, host_lifespan(host) as state:
            yield state

    app.router.lifespan_context = lifespan


def guard_route(route_app: Any, peptalk: PepTalk, *, chain_path: str, observe: bool = True) -> Any:
    """One route's app wrapped in peptalk's per-route layers, outermost first: request id -> metrics (with
    `observe`) -> start check and error answers -> the one parse of the body -> rate limit -> envelope check ->
    the route (host dependencies, then the fast path for exact hits, then LangServe).

    Every route of one `PepTalk` shares its one limiter (`PepTalk.rate_limiter`), so a limit holds across
    invoke, batch, stream, stream_log and stream_events, with or without `/c/{config_hash}`.
    """
    wrapped: Any = EnvelopeMiddleware(route_app)
    if peptalk.rate_limiter is not None:
        wrapped = RateLimitMiddleware(wrapped, limiter=peptalk.rate_limiter)
    wrapped = ParseRequestMiddleware(wrapped, chain_path=chain_path, max_body_bytes=peptalk.settings.max_body_bytes)
    wrapped = GuestErrors(wrapped, peptalk)
    return RequestIdMiddleware(HttpMetricsMiddleware(wrapped)) if observe else wrapped


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
