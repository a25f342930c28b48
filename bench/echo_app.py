"""A bare FastAPI app with peptalk's invoke, batch and stream envelopes and no work: the throughput ceiling.

    ECHO_ANSWER_WORDS=150 python -m uvicorn bench.echo_app:app --port 8002

`ECHO_ANSWER_WORDS` (default 12) sets the length of the answer, so the load generator reads as many bytes
and stream events from the echo as from the pep talks it is compared with.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

SENTENCE = "You finished the report; today the slides move the beta forward.".split(" ")
WORDS = int(os.environ.get("ECHO_ANSWER_WORDS", "12"))
TEXT = " ".join(SENTENCE[index % len(SENTENCE)] for index in range(WORDS))
app = FastAPI()


def _answer(payload: Any) -> dict[str, Any]:
    return {"text": TEXT, "model": "echo", "metadata": {"user_id": (payload or {}).get("user_id")}}


@app.get("/healthz")
@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/peptalk/invoke")
async def invoke(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"output": _answer(body.get("input")), "metadata": {}}


@app.post("/peptalk/batch")
async def batch(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"output": [_answer(item) for item in body.get("inputs", [])], "metadata": {}}


@app.post("/peptalk/stream")
async def stream(request: Request) -> StreamingResponse:
    body = await request.json()
    answer = _answer(body.get("input"))

    async def events() -> AsyncIterator[bytes]:
        yield b'event: metadata\ndata: {"run_id": "echo"}\n\n'
        yield f"event: data\ndata: {json.dumps({'text': '', 'model': answer['model']})}\n\n".encode()
        for word in TEXT.split(" "):
            yield f"event: data\ndata: {json.dumps({'text': word + ' '})}\n\n".encode()
        yield b'event: data\ndata: {"text": ""}\n\n'
        yield b"event: end\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
