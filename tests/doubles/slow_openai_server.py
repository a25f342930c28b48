"""A slow OpenAI-protocol chat server: a stand-in for a candidate on a remote GPU node, using no CPU here.

Run: python -m tests.doubles.slow_openai_server --port P --model NAME --first-token-s 2.5 --token-s 0.02 --tokens 24
It streams a canned answer token by token after `first-token-s`, behind OpenAI's request rules (`openai_app`).
Production code never imports this module.
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI

from tests.doubles.openai_app import create_openai_app
from tests.doubles.openai_canned import CannedEngine

ANSWER = ("You showed up yesterday and finished what mattered. Today, pick the one task that moves the beta "
          "forward, protect an hour for it, and let the morning run clear your head first.")


def create_double(model: str, *, first_token_s: float, token_s: float, tokens: int) -> FastAPI:
    words = ANSWER.split(" ")[:tokens]
    engine = CannedEngine(words=[word if index == 0 else " " + word for index, word in enumerate(words)],
                          first_token_s=first_token_s, token_s=token_s)
    return create_openai_app(engine, models=[model], title="slow-openai-double")


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
