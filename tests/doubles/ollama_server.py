"""A test double that speaks Ollama's HTTP API, backed by llama.cpp (SmolLM2 for every tag).

Run: python -m tests.doubles.ollama_server --port P --model-path GGUF --tag starling-lm:7b [--pullable TAG ...]
Production code never imports this module.
"""

from __future__ import annotations

import argparse
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

VERSION = "0.6.3-double"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _digest(tag: str) -> str:
    return hashlib.sha256(tag.encode()).hexdigest()


def create_double(model_path: Path, tags: list[str], pullable: list[str], *, n_threads: int = 2) -> FastAPI:
    """The double's app: `tags` are installed, `pullable` can be pulled, all answer with the same GGUF."""
    runtime = EmbeddedRuntime(model_path, n_ctx=2048, n_threads=n_threads)
    installed: dict[str, str] = {tag: _now() for tag in tags}
    size = model_path.stat().st_size
    app = FastAPI(title="ollama-double")
    app.state.installed = installed
    app.state.requests = 0

    def model_entry(tag: str) -> dict[str, Any]:
        return {"name": tag, "model": tag, "modified_at": installed[tag], "size": size, "digest": _digest(tag),
                "details": {"format": "gguf", "family": "llama", "parameter_size": "135M",
                            "quantization_level": "Q4_1"}}

    def normalise(tag: str) -> str:
        return tag if ":" in tag else f"{tag}:latest"

    def find(tag: str | None) -> str | None:
        if not tag:
            return None
        for candidate in (tag, normalise(tag)):
            if candidate in installed:
                return candidate
        return None

    def not_found(tag: str | None) -> JSONResponse:
        return JSONResponse({"error": f"model '{tag}' not found"}, status_code=404)

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
        return {"models": [model_entry(tag) | {"size_vram": 0} for tag in installed] if runtime.loaded else []}

    @app.post("/api/show")
    async def show(request: Request) -> Any:
        body = await request.json()
        tag = find(body.get("model") or body.get("name"))
        if tag is None:
            return not_found(body.get("model") or body.get("name"))
        return {"modelfile": f"FROM {model_path.name}", "parameters": "", "template": "{{ .Prompt }}",
                "details": model_entry(tag)["details"], "model_info": {"general.architecture": "llama"},
                "capabilities": ["completion"], "modified_at": installed[tag]}

    async def generate(messages: list[dict[str, str]], options: dict[str, Any]) -> AsyncIterator[tuple[str, Any]]:
        params = {"max_tokens": int(options.get("num_predict") or 128), "temperature": float(options.get("temperature", 0.7))}
        if options.get("stop"):
            params["stop"] = options["stop"]
        async for event in runtime.astream(messages, **params):
            yield ("token", event.text) if not event.done else ("done", event)

    def final_fields(event: Any, started: float, first: float | None) -> dict[str, Any]:
        total = time.perf_counter() - started
        first = first if first is not None else total
        return {"done": True, "done_reason": "length" if event.finish_reason == "length" else "stop",
                "total_duration": int(total * 1e9), "load_duration": 0,
                "prompt_eval_count": event.prompt_tokens, "prompt_eval_duration": int(first * 1e9),
                "eval_count": event.completion_tokens, "eval_duration": int((total - first) * 1e9)}

    async def respond(body: dict[str, Any], messages: list[dict[str, str]], chat: bool) -> Any:
        tag = find(body.get("model"))
        if tag is None:
            return not_found(body.get("model"))
        app.state.requests += 1
        options = body.get("options") or {}
        started = time.perf_counter()

        def piece(text: str) -> dict[str, Any]:
            base = {"model": tag, "created_at": _now()}
            return base | ({"message": {"role": "assistant", "content": text}} if chat else {"response": text})

        if body.get("stream", True):
            async def lines() -> AsyncIterator[bytes]:
                first: float | None = None
                async for kind, value in generate(messages, options):
                    if kind == "token":
                        first = first if first is not None else time.perf_counter() - started
                        yield (json.dumps(piece(value) | {"done": False}) + "\n").encode()
                    else:
                        yield (json.dumps(piece("") | final_fields(value, started, first)) + "\n").encode()
            return StreamingResponse(lines(), media_type="application/x-ndjson")

        text, first, final = [], None, None
        async for kind, value in generate(messages, options):
            if kind == "token":
                first = first if first is not None else time.perf_counter() - started
                text.append(value)
            else:
                final = value
        return piece("".join(text)) | final_fields(final, started, first)

    @app.post("/api/chat")
    async def chat(request: Request) -> Any:
        body = await request.json()
        messages = [{"role": m.get("role", "user"), "content": m.get("content", "")} for m in body.get("messages", [])]
        return await respond(body, messages, chat=True)

    @app.post("/api/generate")
    async def generate_endpoint(request: Request) -> Any:
        body = await request.json()
        return await respond(body, [{"role": "user", "content": body.get("prompt", "")}], chat=False)

    @app.post("/api/pull")
    async def pull(request: Request) -> Any:
        body = await request.json()
        tag = normalise(body.get("model") or body.get("name") or "")
        if tag not in pullable and tag not in installed:
            return JSONResponse({"error": "pull model manifest: file does not exist"}, status_code=404)
        digest = "sha256:" + _digest(tag)
        total = size
        steps = 5

        async def progress() -> AsyncIterator[bytes]:
            yield (json.dumps({"status": "pulling manifest"}) + "\n").encode()
            for step in range(1, steps + 1):
                await asyncio.sleep(0.05)
                yield (json.dumps({"status": f"pulling {digest[7:19]}", "digest": digest, "total": total,
                                   "completed": total * step // steps}) + "\n").encode()
            for status in ("verifying sha256 digest", "writing manifest", "success"):
                yield (json.dumps({"status": status}) + "\n").encode()
            installed[tag] = _now()

        if body.get("stream", True):
            return StreamingResponse(progress(), media_type="application/x-ndjson")
        async for _ in progress():
            pass
        return {"status": "success"}

    @app.on_event("shutdown")
    async def close() -> None:
        runtime.close()

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model-path", type=Path, required=True)
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--pullable", action="append", default=[])
    args = parser.parse_args()
    app = create_double(args.model_path, args.tag, args.pullable)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
