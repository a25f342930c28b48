"""Liveness, readiness and the model list: `/healthz`, `/readyz`, `/models`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, params
from fastapi.responses import JSONResponse

from router.router import Router


def add_health_routes(app: FastAPI, router: Router, *, prefix: str = "",
                      dependencies: Sequence[params.Depends] = (),
                      rollout_state: Callable[[], dict[str, Any]] | None = None) -> None:
    """Adds `/healthz`, `/readyz` and `/models` for `router` under `prefix`, each behind `dependencies`;
    `rollout_state` describes the rollout stage as this process applies it (stale: serving the primary)."""

    async def readyz() -> JSONResponse:
        response = await readiness(router)
        if rollout_state is not None:
            body = json.loads(bytes(response.body))
            body["rollout"] = rollout_state()
            response = JSONResponse(body, status_code=response.status_code)
        return response

    async def models() -> dict[str, Any]:
        return model_list(router)

    readyz.__doc__, models.__doc__ = readiness.__doc__, model_list.__doc__
    for path, endpoint in (("/healthz", healthz), ("/readyz", readyz), ("/models", models)):
        app.add_api_route(prefix + path, endpoint, methods=["GET"], tags=["health"], dependencies=list(dependencies))


async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


async def readiness(router: Router) -> JSONResponse:
    """Each backend and node, reachable or not, with its breaker state; 503 when no routable model can answer."""
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


def model_list(router: Router) -> dict[str, Any]:
    """The configured models (as `backend:model` names a request can pin), the routing policy, and each node."""
    return {
        "default": str(router.default),
        "models": router.known_models(),
        "backends": {name: backend.models() for name, backend in router.backends.items()},
        "routing": router.describe(),
        "nodes": router.node_states(),
    }
