"""The HTTP front every OpenAI-protocol double shares: OpenAI's (and Azure's) routes, keys and request rules.

An `Engine` makes the text (canned words, a slow canned answer, or `llama_cpp.server` behind it); this front
checks each request against `openai_rules` first, so a request the real API rejects never reaches it, and
answers in the API's shapes (`openai_wire`). A fault script makes chat requests fail as the API does:
`ok`, `401`, `404`, `429:S` (Retry-After S), `500`, `503`; the last entry repeats.
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
    fault,
    models_list,
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

    def next_action(self) -> str:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def _action_error(action: str) -> OpenAIError | None:
    name, _, argument = action.partition(":")
    if name == "ok":
        return None
    return fault(int(name), retry_after_s=float(argument or 1))


def create_openai_app(engine: Engine, *, models: Collection[str], api_keys: Collection[str] | None = None,
                      script: list[str] | None = None, title: str = "openai-double") -> FastAPI:
    """OpenAI's /v1/models and /v1/chat/completions, and Azure's deployment routes, in front of `engine`.

    `api_keys` None accepts any non-empty key (a missing one is still a 401).
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
            failure = _action_error(state.next_action())
            if failure is not None:
                raise failure
        except OpenAIError as error:
            captured.status = error.status
            return error_response(error)
        captured.status = 200
        model = deployment or body["model"]
        limit = token_limit(body, target=target)
        pieces = engine.generate(body, model=model, limit=limit)
        if body.get("stream"):
            return StreamingResponse(_events(pieces, ChunkWriter(model, body)), media_type="text/event-stream")
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
        try:
            check_key(request.headers, api_keys)
        except OpenAIError as error:
            return error_response(error)
        return models_list(names)

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


async def _events(pieces: AsyncIterator[str | Finish], writer: ChunkWriter) -> AsyncIterator[bytes]:
    yield writer.opening()
    finish = Finish(0, 0)
    async for piece in pieces:
        if isinstance(piece, Finish):
            finish = piece
        elif piece:
            yield writer.delta({"content": piece})
    for event in writer.closing(usage(finish.prompt_tokens, finish.completion_tokens), finish.reason):
        yield event
