"""OpenAI's request rules in front of `python -m llama_cpp.server`: the GPT-4 stand-in every test goes through.

llama_cpp.server accepts what OpenAI rejects (both token limits, unknown fields, `stream_options` without
`stream`); this proxy checks each request against `openai_rules` first and answers in OpenAI's shapes, the usage
chunk of a stream included. It translates nothing: the token limits go to the server as they came, so a request
that only OpenAI would bound (`max_completion_tokens` alone) runs unbounded here, as on a real llama.cpp node;
and GET /v1/models says what the server says of its models (`owned_by`), so peptalk sees the engine it talks to.
Run: python -m tests.doubles.openai_proxy --port P --upstream http://127.0.0.1:U/v1 --model gpt-4
Production code never imports this module.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from tests.doubles.openai_app import Finish, create_openai_app

# The fields forwarded as they came (the server reads `max_tokens` and ignores `max_completion_tokens`);
# OpenAI-only ones (store, metadata ...) stop here.
FORWARDED = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "logit_bias",
             "response_format", "max_tokens", "max_completion_tokens")


def upstream_owner(upstream: str) -> str:
    """What the server's GET /models says owns its models (llama_cpp.server: `me`)."""
    listing = httpx.get(f"{upstream.rstrip('/')}/models", timeout=10.0).json()
    return str((listing.get("data") or [{}])[0].get("owned_by", ""))


class LlamaCppEngine:
    """Streams every answer from llama_cpp.server, with the request's fields as they came."""

    def __init__(self, upstream: str, *, upstream_model: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.upstream_model = upstream_model
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=5.0))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _prompt_tokens(self, body: dict[str, Any]) -> int:
        text = "\n".join(f"{message['role']}\n{message.get('content') or ''}" for message in body["messages"])
        response = await self.client().post(f"{self.upstream.removesuffix('/v1')}/extras/tokenize/count",
                                            json={"model": self.upstream_model, "input": text})
        response.raise_for_status()
        return int(response.json()["count"])

    async def generate(self, body: dict[str, Any], *, model: str, limit: int | None) -> AsyncIterator[str | Finish]:
        upstream_body: dict[str, Any] = {"model": self.upstream_model, "stream": True,
                                         "messages": [{"role": message["role"], "content": message.get("content")}
                                                      for message in body["messages"]]}
        upstream_body.update({name: body[name] for name in FORWARDED if body.get(name) is not None})
        pieces = 0
        reason = "stop"
        async with self.client().stream("POST", f"{self.upstream}/chat/completions", json=upstream_body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                chunk = json.loads(line[5:])
                for choice in chunk.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        pieces += 1
                        yield content
                    if choice.get("finish_reason"):
                        reason = choice["finish_reason"]
        yield Finish(await self._prompt_tokens(body), pieces, reason)


def create_proxy(upstream: str, *, models: list[str], upstream_model: str | None = None,
                 api_keys: list[str] | None = None, owned_by: str = "me") -> FastAPI:
    engine = LlamaCppEngine(upstream, upstream_model=upstream_model or models[0])
    app = create_openai_app(engine, models=models, api_keys=api_keys, title="openai-validating-proxy",
                            owned_by=owned_by)
    app.router.on_shutdown.append(engine.aclose)
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="llama_cpp.server's /v1 base URL")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--api-key", action="append", default=None, help="accepted keys (default: any)")
    args = parser.parse_args()
    app = create_proxy(args.upstream, models=args.model or ["gpt-4"], api_keys=args.api_key,
                       owned_by=upstream_owner(args.upstream))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
