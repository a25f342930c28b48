"""The HTTP front every OpenAI-protocol double shares: OpenAI's (and Azure's) routes, keys and request rules.

An `Engine` makes the text (canned words, a slow canned answer, or `llama_cpp.server` behind it); this front
checks each request against `openai_rules` first, so a request the real API rejects never reaches it, and
answers in the API's shapes (`openai_wire`). A fault script makes chat requests fail as the API does
(`openai_rules.SCRIPT_HELP`: 401, 404, 500, 503, 429 with or without `Retry-After` or `retry-after-ms`,
`insufficient_quota`, and an error event inside a 200 stream); the last entry repeats. `FrontState.models_status`
makes GET /v1/models fail (a node still loading, or behind a gateway), as a node that cannot say its engine.
Production code never imports this module.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.doubles.openai_rules import (
    OpenAIError,
    TargetName,
    bad,
    check_key,
    models_list,
    scripted_error,
    scripted_event,
    server_error,
    token_limit,
    validate_chat,
)
from tests.doubles.openai_wire import ChunkWriter, completion, error_response, usage


@dataclass
class Finish:
    """How a generation ended: the token counts and why it stopped."""

    prompt_tokens: int
    completion_tokens: int
    reason: str = "stop"


class Engine(Protocol):
    """Makes the answer: yields text pieces, then one `Finish`."""

    def generate(self, body: dict[str, Any], *, model: str, limit: int | None) -> AsyncIterator[str | Finish]: ...


@dataclass
class Captured:
    """One request as it arrived: what a contract test inspects."""

    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FrontState:
    """The front's mutable state: the fault script and every request seen."""

    script: list[str] = field(default_factory=lambda: ["ok"])
    requests: list[Captured] = field(default_factory=list)
    models_status: int = 200  # another status: GET /v1/models answers the API's error for it
    models_asked: int = 0

    def next_action(self) -> str:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def create_openai_app(engine: Engine, *, models: Collection[str], api_keys: Collection[str] | None = None,
                      script: list[str] | None = None, title: str = "openai-double",
                      owned_by: str = "openai") -> FastAPI:
    """OpenAI's /v1/models and /v1/chat/completions, and Azure's deployment routes, in front of `engine`.

    `api_keys` None accepts any non-empty key (a missing one is still a 401); `owned_by` is what GET /v1/models
    says of each model (the engine peptalk reads from it).
    """
    app = FastAPI(title=title)
    state = FrontState(script=list(script or ["ok"]))
    app.state.front = state
    names = list(models)

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None  # validate_chat answers a non-object with the API's parse error

    async def chat(request: Request, body: Any, *, target: TargetName, api_key_names: Collection[str] | None,
                   deployment: str | None = None) -> Any:
        captured = Captured(request.url.path, dict(request.headers), body)
        state.requests.append(captured)
        try:
            check_key(request.headers, api_key_names, azure=target == "azure")
            validate_chat(body, target=target, known_models=None if deployment else names)
            if deployment is not None and deployment not in names:
                raise OpenAIError(404, "The API deployment for this resource does not exist. If you created the "
                                       "deployment within the last 5 minutes, please wait a moment and try again.",
                                  code="DeploymentNotFound")
            action = state.next_action()
            failure = scripted_error(action)
            if failure is not None:
                raise failure
            event = scripted_event(action)
            if event is not None and not body.get("stream"):
                raise event[1]  # not streamed: the same failure is the response's status
        except OpenAIError as error:
            captured.status = error.status
            return error_response(error)
        captured.status = 200
        model = deployment or body["model"]
        limit = token_limit(body, target=target)
        pieces = engine.generate(body, model=model, limit=limit)
        if body.get("stream"):
            return StreamingResponse(_events(pieces, ChunkWriter(model, body), event),
                                     media_type="text/event-stream")
        text: list[str] = []
        finish = Finish(0, 0)
        async for piece in pieces:
            if isinstance(piece, Finish):
                finish = piece
            else:
                text.append(piece)
        return JSONResponse(completion(model, "".join(text), usage(finish.prompt_tokens, finish.completion_tokens),
                                       finish_reason=finish.reason))

    @app.get("/v1/models")
    async def list_models(request: Request) -> Any:
        state.models_asked += 1
        try:
            check_key(request.headers, api_keys)
            if state.models_status != 200:
                raise server_error() if state.models_status >= 500 else OpenAIError(state.models_status, "Not found")
        except OpenAIError as error:
            return error_response(error)
        return models_list(names, owned_by=owned_by)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        return await chat(request, await body_of(request), target="openai", api_key_names=api_keys)

    @app.get("/openai/models")
    async def azure_models(request: Request) -> Any:
        try:
            _azure_version(request)
            check_key(request.headers, api_keys, azure=True)
        except OpenAIError as error:
            return error_response(error)
        return models_list(names)

    @app.post("/openai/deployments/{deployment}/chat/completions")
    async def azure_chat(deployment: str, request: Request) -> Any:
        body = await body_of(request)
        try:
            _azure_version(request)
        except OpenAIError as error:
            state.requests.append(Captured(request.url.path, dict(request.headers), body, error.status))
            return error_response(error)
        return await chat(request, body, target="azure", api_key_names=api_keys, deployment=deployment)

    return app


def _azure_version(request: Request) -> None:
    if not request.query_params.get("api-version"):
        raise bad("Missing required query parameter: 'api-version'.", param="api-version")


async def _events(pieces: AsyncIterator[str | Finish], writer: ChunkWriter,
                  failure: tuple[int, OpenAIError] | None = None) -> AsyncIterator[bytes]:
    """The stream's events; with `failure` (N, error), an error event after N tokens ends it, as the API's does."""
    yield writer.opening()
    finish = Finish(0, 0)
    sent = 0
    async for piece in pieces:
        if failure is not None and sent >= failure[0]:
            yield writer.error(failure[1].body())
            return
        if isinstance(piece, Finish):
            finish = piece
        elif piece:
            sent += 1
            yield writer.delta({"content": piece})
    for event in writer.closing(usage(finish.prompt_tokens, finish.completion_tokens), finish.reason):
        yield event
