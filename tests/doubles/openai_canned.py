"""An OpenAI-protocol double that answers instantly with canned text, behind OpenAI's request rules.

For load-test plumbing and protocol tests, where the model's speed would only add noise:
`python -m tests.doubles.openai_canned --port 8001 [--delay-ms 5] [--fail 429:2,ok] [--api-key K]`.
Requests the real API rejects get its 4xx (`openai_rules`); `--fail` scripts 401/404/429/500/503 answers.
Production code never imports this module.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from tests.doubles.openai_app import Finish, create_openai_app
from tests.doubles.openai_wire import prompt_words

WORDS = ["You", " finished", " the", " report;", " today", " the", " slides", " move", " the", " beta", " forward."]


class CannedEngine:
    """The same words every time, cut at the request's token limit (one word a token)."""

    def __init__(self, *, delay_ms: float = 0.0, words: list[str] | None = None, first_token_s: float = 0.0,
                 token_s: float = 0.0) -> None:
        self.delay_ms = delay_ms
        self.words = list(words or WORDS)
        self.first_token_s = first_token_s
        self.token_s = token_s

    async def generate(self, body: dict[str, Any], *, model: str, limit: int | None) -> AsyncIterator[str | Finish]:
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        if self.first_token_s:
            await asyncio.sleep(self.first_token_s)
        words = self.words if limit is None else self.words[:limit]
        for word in words:
            yield word
            if self.token_s:
                await asyncio.sleep(self.token_s)
        yield Finish(prompt_words(body), len(words), "length" if len(words) < len(self.words) else "stop")


def create_double(*, delay_ms: float = 0.0, model_names: tuple[str, ...] = ("gpt-4",),
                  api_keys: list[str] | None = None, script: list[str] | None = None) -> FastAPI:
    return create_openai_app(CannedEngine(delay_ms=delay_ms), models=model_names, api_keys=api_keys, script=script,
                             title="openai-canned")


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--api-key", action="append", default=None, help="accepted keys (default: any)")
    parser.add_argument("--fail", default="ok", help="fault script: ok,401,404,429:S,500,503 (the last repeats)")
    args = parser.parse_args()
    app = create_double(delay_ms=args.delay_ms, model_names=tuple(args.model or ["gpt-4"]), api_keys=args.api_key,
                        script=args.fail.split(","))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
