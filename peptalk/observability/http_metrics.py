"""Per-request metrics and the access log line: route, status, served model, latency."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import Match

from peptalk import metrics

log = logging.getLogger("peptalk.http")

NO_MODEL = "none"  # the request was answered without calling a model (a 4xx, a schema, /healthz ...)
UNMATCHED_ROUTE = "unmatched"  # keeps the route label bounded when a client sends random paths


@dataclass
class RequestFacts:
    """What the serving layers learnt about one HTTP request, for its metrics and log line."""

    models: list[str] = field(default_factory=list)
    error: str | None = None  # an exception a layer raised, also when the stream had already started

    def model_label(self) -> str:
        served = set(self.models)
        if not served:
            return NO_MODEL
        return self.models[0] if len(served) == 1 else "mixed"


current_request_facts: ContextVar[RequestFacts | None] = ContextVar("peptalk_request_facts", default=None)


def route_label(scope: dict[str, Any]) -> str:
    """The matched route's path template (e.g. `/peptalk/c/{config_hash}/invoke`), never the raw path.

    A request refused before routing (401, 429, 413) is matched here against the app's routes.
    """
    route = scope.get("route")
    if route is None:
        app = scope.get("app")
        routes = getattr(app, "routes", None) or []
        route = next((candidate for candidate in routes if candidate.matches(scope)[0] == Match.FULL), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


def error_label(status: int, facts: RequestFacts) -> str | None:
    """Why a request counts as failed: the layer's exception, or the HTTP status; `None` when it did not fail."""
    if facts.error is not None:
        return facts.error
    if status >= 400:
        return f"http_{status}"
    return None


class HttpMetricsMiddleware:
    """ASGI middleware: counts and times every request by route, served model and status, and logs it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        facts = RequestFacts()
        token = current_request_facts.set(facts)
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_observed(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:
            status = 500
            facts.error = facts.error or type(exc).__name__
            raise
        finally:
            current_request_facts.reset(token)
            self._observe(scope, status, facts, time.perf_counter() - started)

    @staticmethod
    def _observe(scope: dict[str, Any], status: int, facts: RequestFacts, latency_s: float) -> None:
        route, model = route_label(scope), facts.model_label()
        metrics.REQUESTS.labels(route=route, model=model, status=str(status)).inc()
        metrics.REQUEST_LATENCY.labels(route=route, model=model).observe(latency_s)
        error = error_label(status, facts)
        if error is not None:
            metrics.REQUEST_ERRORS.labels(route=route, model=model, error=error).inc()
        log.info("request", extra={"method": scope.get("method"), "path": scope.get("path"), "route": route,
                                   "status": status, "model": model, "latency_s": round(latency_s, 4),
                                   **({"error": error} if error else {})})
