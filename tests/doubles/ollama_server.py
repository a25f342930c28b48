"""A test double that speaks Ollama's HTTP API as Ollama does, backed by llama.cpp (SmolLM2 for every tag).

Run: python -m tests.doubles.ollama_server --port P --model-path GGUF --tag starling-lm:7b [--pullable TAG ...]
     [--crash TAG:N ...] [--slow TAG:N:S ...] [--load-s 0.3]
It follows Ollama's behaviour (`ollama_rules`, checked against v0.33.0-rc2): a bad body is a 400, an unknown
model a 404, a wrong-typed option a 500 (it fails when the runner is scheduled);
empty `messages` (or an empty prompt) loads the model and answers `done_reason: "load"` without generating;
the first request of a tag pays a real load (`load_duration`); `/api/ps` lists only loaded tags; a pull of an
unknown tag answers 200 and streams `pulling manifest`, then `{"error": ...}`. `--crash TAG:N` makes TAG's
runner die after N tokens: with N = 0 an HTTP 500 `{"error": ...}` (nothing was written yet, `streamResponse`),
after a token an in-stream `{"error": ...}` line.
`--slow TAG:N:S` makes TAG slow down after its first N generations: each later one waits S seconds before its
first token (a node under contention), so a test can slow a model mid-run without restarting it.
Production code never imports this module.
"""

from __future__ import annotations

import argparse
import math
import asyncio
import datetime as dt
import hashlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from router.backends.embedded_runtime import EmbeddedRuntime
from tests.doubles.ollama_rules import (
    OllamaError,
    check_options,
    not_found,
    pull_name,
    validate_chat,
    validate_generate,
)

VERSION = "0.6.3-double"
RUNNER_CRASH = "llama runner process has terminated: signal: killed"
KEEP_ALIVE_S = 300


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime | None = None) -> str:
    return (moment or _now()).isoformat().replace("+00:00", "Z")


def _digest(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload) + "\n").encode()


def _error(error: OllamaError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def create_double(model_path: Path, tags: list[str], pullable: list[str], *, n_threads: int = 2,
                  crash_after: dict[str, int] | None = None, slow_after: dict[str, tuple[int, float]] | None = None,
                  load_s: float = 0.3) -> FastAPI:
    """The double's app: `tags` are installed, `pullable` can be pulled, all answer with the same GGUF.

    `slow_after` maps a tag to (N, S): after its first N generations, each waits S seconds before its first token.
    """
    runtime = EmbeddedRuntime(model_path, n_ctx=2048, n_threads=n_threads)
    installed: dict[str, str] = {tag: _stamp() for tag in tags}
    loaded: dict[str, dt.datetime] = {}  # tag -> when it unloads
    crashes = dict(crash_after or {})
    slowdowns = dict(slow_after or {})
    generations: dict[str, int] = {}  # per tag, generating requests so far
    size = model_path.stat().st_size
    app = FastAPI(title="ollama-double")
    app.state.installed = installed
    app.state.loaded = loaded
    app.state.requests = 0

    def model_entry(tag: str) -> dict[str, Any]:
        return {"name": tag, "model": tag, "modified_at": installed[tag], "size": size, "digest": _digest(tag),
                "details": {"format": "gguf", "family": "llama", "parameter_size": "135M",
                            "quantization_level": "Q4_1"}}

    def normalise(tag: str) -> str:
        return tag if ":" in tag else f"{tag}:latest"

    def find(tag: str) -> str:
        for candidate in (tag, normalise(tag)):
            if candidate in installed:
                return candidate
        raise not_found(tag)

    async def ensure_loaded(tag: str) -> int:
        """Loads `tag` the way Ollama's scheduler does; returns the load duration in nanoseconds."""
        started = time.perf_counter_ns()
        if tag not in loaded:
            await asyncio.to_thread(runtime.load)
            await asyncio.sleep(load_s)  # weights moving into GPU memory on a real node
        loaded[tag] = _now() + dt.timedelta(seconds=KEEP_ALIVE_S)
        return max(time.perf_counter_ns() - started, 1)

    @app.get("/")
    async def root() -> Any:
        return "Ollama is running"

    @app.get("/api/version")
    async def version() -> dict[str, str]:
        return {"version": VERSION}

    @app.get("/api/tags")
    async def list_tags() -> dict[str, Any]:
        return {"models": [model_entry(tag) for tag in installed]}

    @app.get("/api/ps")
    async def ps() -> dict[str, Any]:
        now = _now()
        for tag in [tag for tag, until in loaded.items() if until <= now]:
            del loaded[tag]
        return {"models": [model_entry(tag) | {"size_vram": size, "expires_at": _stamp(until)}
                           for tag, until in loaded.items()]}

    @app.post("/api/show")
    async def show(request: Request) -> Any:
        body = await _json(request)
        try:
            tag = find(pull_name(body))
        except OllamaError as error:
            return _error(error)
        return {"modelfile": f"FROM {model_path.name}", "parameters": "", "template": "{{ .Prompt }}",
                "details": model_entry(tag)["details"], "model_info": {"general.architecture": "llama"},
                "capabilities": ["completion"], "modified_at": installed[tag]}

    async def generate(messages: list[dict[str, str]], options: dict[str, Any]) -> AsyncIterator[tuple[str, Any]]:
        params = {"max_tokens": int(options.get("num_predict") or 128), "temperature": float(options.get("temperature", 0.8))}
        if options.get("stop"):
            params["stop"] = options["stop"]
        async for event in runtime.astream(messages, **params):
            yield ("token", event.text) if not event.done else ("done", event)

    def final_fields(event: Any, started: float, first: float | None, load_ns: int) -> dict[str, Any]:
        total = time.perf_counter() - started
        first = first if first is not None else total
        return {"done": True, "done_reason": "length" if event.finish_reason == "length" else "stop",
                "total_duration": int(total * 1e9) + load_ns, "load_duration": load_ns,
                "prompt_eval_count": event.prompt_tokens, "prompt_eval_duration": int(first * 1e9),
                "eval_count": event.completion_tokens, "eval_duration": int((total - first) * 1e9)}

    async def respond(body: dict[str, Any], tag: str, messages: list[dict[str, str]], chat: bool) -> Any:
        load_ns = await ensure_loaded(tag)
        if not messages or (not chat and not messages[0]["content"]):
            # Ollama's ChatHandler/GenerateHandler: nothing to generate, the model is loaded; never streamed.
            nothing = {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
            return {"model": tag, "created_at": _stamp(), **nothing, "done": True, "done_reason": "load"}
        app.state.requests += 1
        generations[tag] = generations.get(tag, 0) + 1
        fast_for, delay_s = slowdowns.get(tag, (0, 0.0))
        delay_s = delay_s if generations[tag] > fast_for else 0.0
        options = body.get("options") or {}
        crash_at = crashes.get(tag)
        started = time.perf_counter()

        def piece(text: str) -> dict[str, Any]:
            base = {"model": tag, "created_at": _stamp()}
            return base | ({"message": {"role": "assistant", "content": text}} if chat else {"response": text})

        async def events() -> AsyncIterator[dict[str, Any]]:
            first: float | None = None
            sent = 0
            await asyncio.sleep(delay_s)  # `--slow`: silence before the first token
            if crash_at == 0:  # the runner dies before it produces anything
                loaded.pop(tag, None)
                yield {"error": RUNNER_CRASH}
                return
            async for kind, value in generate(messages, options):
                if crash_at is not None and sent >= crash_at:
                    loaded.pop(tag, None)  # the runner died; the next request loads it again
                    yield {"error": RUNNER_CRASH}
                    return
                if kind == "token":
                    first = first if first is not None else time.perf_counter() - started
                    sent += 1
                    yield piece(value) | {"done": False}
                else:
                    yield piece("") | final_fields(value, started, first, load_ns)

        if body.get("stream", True) is not False:
            return await _stream_response(events())
        text: list[str] = []
        async for event in events():
            if "error" in event:
                return JSONResponse(event, status_code=500)
            if event["done"]:
                return event | piece("".join(text))
            text.append(event["message"]["content"] if chat else event["response"])
        raise RuntimeError("the generation ended without a final event")

    @app.post("/api/chat")
    async def chat(request: Request) -> Any:
        body = await _json(request)
        try:
            tag = find(validate_chat(body))
            check_options(body.get("options"))
        except OllamaError as error:
            return _error(error)
        messages = [{"role": m.get("role") or "", "content": m.get("content", "")} for m in body.get("messages") or []]
        return await respond(body, tag, messages, chat=True)

    @app.post("/api/generate")
    async def generate_endpoint(request: Request) -> Any:
        body = await _json(request)
        try:
            tag = find(validate_generate(body))
            check_options(body.get("options"))
        except OllamaError as error:
            return _error(error)
        return await respond(body, tag, [{"role": "user", "content": body.get("prompt", "")}], chat=False)

    @app.post("/api/pull")
    async def pull(request: Request) -> Any:
        body = await _json(request)
        try:
            tag = normalise(pull_name(body))
        except OllamaError as error:
            return _error(error)
        digest = "sha256:" + _digest(tag)
        known = tag in pullable or tag in installed

        async def progress() -> AsyncIterator[dict[str, Any]]:
            yield {"status": "pulling manifest"}
            await asyncio.sleep(0.05)
            if not known:  # Ollama's PullHandler sends the registry's failure in the stream, after a 200
                yield {"error": "pull model manifest: file does not exist"}
                return
            steps = 5
            for step in range(1, steps + 1):
                await asyncio.sleep(0.05)
                yield {"status": f"pulling {digest[7:19]}", "digest": digest, "total": size,
                       "completed": size * step // steps}
            for status in ("verifying sha256 digest", "writing manifest", "success"):
                yield {"status": status}
            installed[tag] = _stamp()

        if body.get("stream", True) is not False:
            return StreamingResponse((_line(event) async for event in progress()), media_type="application/x-ndjson")
        async for event in progress():
            if "error" in event:
                return JSONResponse(event, status_code=500)
        return {"status": "success"}

    @app.on_event("shutdown")
    async def close() -> None:
        runtime.close()

    return app


async def _stream_response(events: AsyncIterator[dict[str, Any]]) -> Any:
    """Ollama's `streamResponse`: nothing is sent before the first event, so an error first is the response's
    status (500 with `{"error": ...}`); after it, an error is one more line of the 200 stream."""
    first = await anext(events, None)
    if first is not None and "error" in first:
        return JSONResponse(first, status_code=500)

    async def lines() -> AsyncIterator[bytes]:
        if first is not None:
            yield _line(first)
        async for event in events:
            yield _line(event)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return ["unparseable"]  # the rules answer a non-object with Ollama's 400


def _crash(value: str) -> tuple[str, int]:
    tag, _, count = value.rpartition(":")
    return tag, int(count)


def _slow(value: str) -> tuple[str, tuple[int, float]]:
    """`TAG:N:S` -> (TAG, (N, S)): N generations at full speed, then S seconds before each first token."""
    try:
        tag, count_text, delay_text = value.rsplit(":", 2)  # the tag may hold its own `:version`
        count, delay_s = int(count_text), float(delay_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not TAG:N:SECONDS (N a whole number)") from None
    if not tag or count < 0 or not math.isfinite(delay_s) or delay_s <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: needs a tag, N >= 0 and SECONDS > 0")
    return tag, (count, delay_s)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-path", type=Path, required=True)
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--pullable", action="append", default=[])
    parser.add_argument("--crash", action="append", default=[], type=_crash, help="TAG:N, the runner dies after N tokens")
    parser.add_argument("--slow", action="append", default=[], type=_slow,
                        help="TAG:N:S, after N generations each waits S seconds before its first token")
    parser.add_argument("--load-s", type=float, default=0.3, help="extra seconds the first request of a tag loads for")
    args = parser.parse_args()
    unknown = sorted({tag for tag, _ in args.slow} - set(args.tag))
    if unknown:
        parser.error(f"argument --slow: {', '.join(unknown)} is not an installed --tag")
    app = create_double(args.model_path, args.tag, args.pullable, crash_after=dict(args.crash),
                        slow_after=dict(args.slow), load_s=args.load_s)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
