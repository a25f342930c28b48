"""Liveness, readiness and the model list: `/healthz`, `/readyz`, `/models`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from router.router import Router

routes = APIRouter(tags=["health"])


def _router(request: Request) -> Router:
    return request.app.state.router


@routes.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@routes.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Each backend and node, reachable or not, with its breaker state; 503 when no routable model can answer."""
    router = _router(request)
    statuses = await router.status()
    backends = {status.backend: asdict(status) for status in statuses}
    routable = router.policy.models()
    ready = any(
        backends.get(ref.backend, {}).get("nodes", {}).get(node.url, {}).get("reachable", False)
        and node.state != "down"
        for ref in routable for node in router.pools[ref].nodes
    )
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "default_model": str(router.default),
                            "routable_models": [str(ref) for ref in routable], "backends": backends,
                            "nodes": router.node_states()}
    return JSONResponse(body, status_code=200 if ready else 503)


@routes.get("/models")
async def models(request: Request) -> dict[str, Any]:
    """The configured models (as `backend:model` names a request can pin), the routing policy, and each node."""
    router = _router(request)
    return {
        "default": str(router.default),
        "models": router.known_models(),
        "backends": {name: backend.models() for name, backend in router.backends.items()},
        "routing": router.describe(),
        "nodes": router.node_states(),
    }
