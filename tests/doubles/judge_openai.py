"""A deterministic judge that speaks the OpenAI chat-completions protocol, with verdicts each test sets.

It reads the two pep talks out of the pairwise prompt and answers with whatever `decide(first, second)`
returns (e.g. "The first is warmer.\\nChoice: 1"). Like the real API it rejects requests without a bearer
key (401), with an unknown model (404), or with a malformed body (400). It runs on its own thread, so a test
may change `decide` while the app and the judge worker call it. Production code never imports this module.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.helpers import free_port, wait_until_up

Decide = Callable[[str, str], str]
_RESPONSES = re.compile(r"Pep talk (\d):\s*<response>\n(.*?)\n</response>", re.DOTALL)
ROLES = {"system", "user", "assistant", "developer", "tool"}


def always(answer: str) -> Decide:
    """The same answer whatever the pair (`Choice: 1` is a judge with pure position bias)."""
    return lambda first, second: answer


def prefer(model_of: Callable[[str], str | None], winner: str) -> Decide:
    """Picks the response that `model_of` attributes to `winner`; a tie when neither or both are."""

    def decide(first: str, second: str) -> str:
        first_wins, second_wins = model_of(first) == winner, model_of(second) == winner
        if first_wins and not second_wins:
            return "Pep talk 1 is more specific.\nChoice: 1"
        if second_wins and not first_wins:
            return "Pep talk 2 is more specific.\nChoice: 2"
        return "They are equally good.\nChoice: 3"

    return decide


def _error(status: int, message: str, code: str | None = None) -> Any:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}},
                        status_code=status)


class JudgeDouble:
    """The judge server; `decide` may be replaced at any time, `calls` counts chat completions answered."""

    def __init__(self, *, model: str = "judge", decide: Decide | None = None) -> None:
        self.model = model
        self.decide: Decide = decide or always("They are equally good.\nChoice: 3")
        self.calls = 0
        self.rejected = 0
        self.port = free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _check(self, headers: Any, body: Any) -> Any:
        authorization = headers.get("authorization", "")
        if not authorization.lower().startswith("bearer ") or not authorization[7:].strip():
            return _error(401, "You didn't provide an API key.", "invalid_api_key")
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.")
        if not isinstance(body.get("model"), str):
            return _error(400, "you must provide a model parameter")
        if body["model"] != self.model:
            return _error(404, f"The model `{body['model']}` does not exist", "model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty array")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES or "content" not in message:
                return _error(400, f"Invalid value for 'messages[{index}]'")
        temperature = body.get("temperature", 1)
        if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
            return _error(400, "'temperature' must be between 0 and 2")
        if body.get("n", 1) != 1:
            return _error(400, "this double answers n=1 only")
        return None

    def _answer(self, messages: list[dict[str, Any]]) -> str:
        text = "\n".join(str(message.get("content", "")) for message in messages)
        found = dict(_RESPONSES.findall(text))
        if "1" not in found or "2" not in found:
            return "I cannot find two pep talks to compare."
        return self.decide(found["1"], found["2"])

    def app(self) -> Any:
        app = FastAPI(title="judge-double")

        @app.get("/v1/models")
        async def models() -> dict[str, Any]:
            return {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "double"}]}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            try:
                body = await request.json()
            except ValueError:
                body = None
            refusal = self._check(request.headers, body)
            if refusal is not None:
                self.rejected += 1
                return refusal
            self.calls += 1
            answer = self._answer(body["messages"])
            ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(answer.split()),
                     "total_tokens": prompt_tokens + len(answer.split())}
            if not body.get("stream"):
                return {"id": ident, "object": "chat.completion", "created": created, "model": self.model,
                        "usage": usage, "choices": [{"index": 0, "finish_reason": "stop",
                                                     "message": {"role": "assistant", "content": answer}}]}

            def event(delta: dict[str, Any], finish: str | None = None) -> str:
                return "data: " + json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created,
                                              "model": self.model, "choices": [{"index": 0, "delta": delta,
                                                                                "finish_reason": finish}]}) + "\n\n"

            async def events() -> AsyncIterator[str]:
                yield event({"role": "assistant", "content": ""})
                for piece in re.findall(r"\S+\s*", answer):
                    yield event({"content": piece})
                yield event({}, "stop")
                if (body.get("stream_options") or {}).get("include_usage"):
                    yield "data: " + json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created,
                                                 "model": self.model, "choices": [], "usage": usage}) + "\n\n"
                yield "data: [DONE]\n\n"

            return StreamingResponse(events(), media_type="text/event-stream")

        return app

    def __enter__(self) -> JudgeDouble:
        import uvicorn

        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._server.serve()), name="judge-double",
                                        daemon=True)
        self._thread.start()
        wait_until_up(f"{self.base_url}/models", None, timeout_s=30, log=None)
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
