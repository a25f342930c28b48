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
    """Each configured backend, reachable or not; 503 when the default model's backend is not."""
    router = _router(request)
    statuses = await router.status()
    backends = {status.backend: asdict(status) for status in statuses}
    ready = backends.get(router.default.backend, {}).get("reachable", False)
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "default_model": str(router.default),
                            "backends": backends}
    return JSONResponse(body, status_code=200 if ready else 503)


@routes.get("/models")
async def models(request: Request) -> dict[str, Any]:
    """The configured backends and their models, as `backend:model` names a request can pin."""
    router = _router(request)
    return {
        "default": str(router.default),
        "models": router.known_models(),
        "backends": {name: backend.models() for name, backend in router.backends.items()},
    }
