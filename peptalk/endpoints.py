"""peptalk's HTTP surface over a `PepTalk`: the LangServe routes, their error answers, and the unroutable check.

The request in front of LangServe's endpoints was read and parsed once, by `ParseRequestMiddleware`; the
dependency here hands the parsed body to LangServe (Starlette caches a request's body and JSON on the
`Request`, which FastAPI shares between a route's dependencies and its endpoint).

Added by `include_peptalk`, which the standalone service (`create_app`) calls too, so both answer alike; the
chain's errors are answered per route (`peptalk.plugin.GuestErrors`, with `error_response` here).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI, HTTPException, Request, params
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.routing import BaseRoute

from peptalk.security.parsed import ParsedRequest, parsed_request
from router.errors import AllBackendsFailed, StreamInterrupted, UnknownModelError
from router.router import Router, seconds_header

if TYPE_CHECKING:
    from peptalk.service import PepTalk

CHAIN_PATH = "/peptalk"  # where the chain's LangServe endpoints live, under the app's (or the plugin's) prefix


def error_response(exc: Exception) -> JSONResponse | None:
    """The answer to an error the chain raised before its response started; None for an unexpected one."""
    if isinstance(exc, ValidationError):
        # LangServe validates batch inputs without catching the error; answer 422 like for invoke.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
    if isinstance(exc, UnknownModelError):
        return JSONResponse({"detail": str(exc), "known_models": exc.known}, status_code=422)
    if isinstance(exc, AllBackendsFailed):
        retry_after = seconds_header(exc.retry_after_s)
        return JSONResponse({"detail": str(exc), "attempts": exc.attempts, "request_id": exc.request_id},
                            status_code=503,
                            headers={"Retry-After": retry_after} if retry_after else None)
    if isinstance(exc, StreamInterrupted):
        return JSONResponse({"detail": str(exc), "model": exc.model, "reason": exc.kind, "request_id": exc.request_id},
                            status_code=502)
    return None


def hand_to_langserve(request: Request, parsed: ParsedRequest) -> None:
    """Seeds the `Request` LangServe's endpoint gets with the body and JSON already read, so it parses nothing."""
    request._body = parsed.body
    if parsed.is_json:
        request._json = parsed.payload
    # A body that is not JSON is left to LangServe's own parse, which answers it with its 422.


def unroutable_guard(router: Router) -> Callable[[Request], Awaitable[None]]:
    """A dependency: a fast 503, before a stream's headers go out, when every node the call could use is cooling down.

    LangServe answers a failure inside a stream with a generic `error` event after a 200, so the case
    that can be known up front (breakers open) is answered here with a real status and reason. It also hands
    LangServe the request's parsed body (`hand_to_langserve`).
    """

    async def refuse_when_unroutable(request: Request) -> None:
        parsed = parsed_request(request.scope)
        if parsed is None:  # not a generating request
            return
        hand_to_langserve(request, parsed)
        if not parsed.is_json:
            return  # LangServe answers malformed bodies itself
        pinned_models = pinned_models_of(parsed.payload)
        try:
            reasons = [router.unavailable_reason(pinned) for pinned in pinned_models]
        except UnknownModelError:
            return  # LangServe's config validation answers 422
        if all(reason is not None for reason in reasons):
            refs = [ref for pinned in pinned_models for ref in router.candidate_models(pinned)]
            retry_after = seconds_header(router.seconds_until_available(refs))
            raise HTTPException(503, detail=f"no backend could answer: {reasons[0]}",
                                headers={"Retry-After": retry_after} if retry_after else None)

    return refuse_when_unroutable


def pinned_models_of(body: object) -> list[str | None]:
    """The model each input of a LangServe request body pins (None: unpinned); a batch may carry a config per input."""
    config = body.get("config") if isinstance(body, dict) else None
    configs = config if isinstance(config, list) else [config]
    pinned: list[str | None] = []
    for entry in configs:
        configurable = entry.get("configurable") if isinstance(entry, dict) else None
        model = configurable.get("model") if isinstance(configurable, dict) else None
        pinned.append(model if isinstance(model, str) else None)
    return list(dict.fromkeys(pinned)) or [None]


def add_chain_routes(app: FastAPI, peptalk: PepTalk, *, prefix: str = "",
                     dependencies: Sequence[params.Depends] = ()) -> list[BaseRoute]:
    """Adds LangServe's endpoints for the chain at `{prefix}/peptalk`, behind `dependencies`; returns the new routes.

    The caller's dependencies (a host's authentication) run first, so a refused caller never reaches peptalk.
    """
    from langserve import add_routes

    before = {id(route) for route in app.router.routes}
    add_routes(app, peptalk.runnable, path=prefix + CHAIN_PATH,
               dependencies=[*dependencies, Depends(unroutable_guard(peptalk.router))],
               disabled_endpoints=None if peptalk.settings.playground_enabled else ["playground"])
    return [route for route in app.router.routes if id(route) not in before]
