"""A slow OpenAI-protocol chat server: a stand-in for a candidate on a remote GPU node, using no CPU here.

Run: python -m tests.doubles.slow_openai_server --port P --model NAME --first-token-s 2.5 --token-s 0.02 --tokens 24
It streams a canned answer token by token after `first-token-s`, with usage when the client asks for it.
Production code never imports this module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

ANSWER = ("You showed up yesterday and finished what mattered. Today, pick the one task that moves the beta "
          "forward, protect an hour for it, and let the morning run clear your head first.")


def create_double(model: str, *, first_token_s: float, token_s: float, tokens: int) -> FastAPI:
    app = FastAPI(title="slow-openai-double")
    words = ANSWER.split(" ")[:tokens]

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "double"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        prompt_tokens = sum(len(str(message.get("content", "")).split()) for message in body.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                 "total_tokens": prompt_tokens + len(words)}
        created = int(time.time())
        if not body.get("stream"):
            await asyncio.sleep(first_token_s + token_s * len(words))
            return JSONResponse({"id": "chatcmpl-double", "object": "chat.completion", "created": created,
                                 "model": model, "usage": usage,
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": " ".join(words)}}]})

        async def events() -> AsyncIterator[str]:
            await asyncio.sleep(first_token_s)
            for index, word in enumerate(words):
                delta = {"role": "assistant", "content": word if index == 0 else " " + word}
                chunk = {"id": "chatcmpl-double", "object": "chat.completion.chunk", "created": created,
                         "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
                await asyncio.sleep(token_s)
            last = {"id": "chatcmpl-double", "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield f"data: {json.dumps(last)}\n\n"
            if (body.get("stream_options") or {}).get("include_usage"):
                yield f"data: {json.dumps(last | {'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="slow-candidate")
    parser.add_argument("--first-token-s", type=float, default=2.5)
    parser.add_argument("--token-s", type=float, default=0.02)
    parser.add_argument("--tokens", type=int, default=24)
    args = parser.parse_args()
    app = create_double(args.model, first_token_s=args.first_token_s, token_s=args.token_s, tokens=args.tokens)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
