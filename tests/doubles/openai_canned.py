"""An OpenAI-protocol double that answers instantly with canned text (chat completions, streamed or not).

For load-test plumbing tests, where the model's speed would only add noise:
`python -m tests.doubles.openai_canned --port 8001 [--delay-ms 5]`. Production code never imports it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

WORDS = ["You", " finished", " the", " report;", " today", " the", " slides", " move", " the", " beta", " forward."]


def create_double(*, delay_ms: float = 0.0, model_names: tuple[str, ...] = ("gpt-4",)) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "double"} for name in model_names]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        model = body.get("model", model_names[0])
        prompt_tokens = sum(len(str(message.get("content", "")).split()) for message in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(WORDS),
                 "total_tokens": prompt_tokens + len(WORDS)}
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if not body.get("stream"):
            return {"id": ident, "object": "chat.completion", "created": created, "model": model, "usage": usage,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "".join(WORDS)}}]}

        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(chunk)}\n\n".encode()

        async def events() -> AsyncIterator[bytes]:
            yield event({"role": "assistant", "content": ""})
            for word in WORDS:
                yield event({"content": word})
            yield event({}, "stop")
            if (body.get("stream_options") or {}).get("include_usage"):
                usage_chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                               "choices": [], "usage": usage}
                yield f"data: {json.dumps(usage_chunk)}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    uvicorn.run(create_double(delay_ms=args.delay_ms), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
