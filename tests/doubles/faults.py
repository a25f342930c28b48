"""A misbehaving model server on 127.0.0.1 for fault tests: it speaks just enough Ollama and OpenAI protocol.

Each chat request takes the next action of a script (the last action repeats):
- `ok`: a short streamed answer; `slow:S`: the same after S seconds of silence;
- `hang`: accept the request and never answer;
- `500`: an Internal Server Error; `503`: Service Unavailable; `429:S`: Too Many Requests with `Retry-After: S`;
  `429`: the same without the header; OpenAI protocol also `429ms:S` (Azure's `retry-after-ms`) and `quota`
  (429 `insufficient_quota`);
- `die:N`: start a 200 stream, send N tokens, then cut the connection;
- `crash:N`: the server fails while generating, after N tokens. Ollama: with N = 0 an HTTP 500 `{"error": ...}`,
  else an in-stream `{"error": ...}` line (`streamResponse` in server/routes.go); OpenAI: an in-stream
  `data: {"error": ...}` event (server_error) inside the 200 stream.
Requests are checked first by the same rules as the other doubles (`openai_rules`, `ollama_rules`): a request
the real service rejects gets its 4xx, and error bodies are the real services' own.
A closed port needs no server: `closed_port_url()`.

The server runs on its own thread and event loop, so a test may call it from sync or async code.
Production code never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from tests.doubles import ollama_rules, openai_rules
from tests.helpers import free_port

TOKENS = ["Hello", " from", " the", " fault", " server", "."]
RUNNER_CRASH = "llama runner process has terminated: signal: killed"
CHAT_PATHS = ("/api/chat", "/v1/chat/completions")


def closed_port_url(suffix: str = "") -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}{suffix}"


class FaultServer:
    """An HTTP server that answers chat requests by script; `chat_requests` counts them (retries included)."""

    def __init__(self, script: list[str], *, tags: tuple[str, ...] = ("starling-lm:7b",)) -> None:
        self.script = list(script)
        self.tags = tags
        self.chat_requests = 0
        self.request_times: list[float] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_script(self, script: list[str]) -> None:
        self.script = list(script)

    def _next_action(self) -> str:
        self.chat_requests += 1
        self.request_times.append(time.monotonic())
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    # -- life cycle

    def __enter__(self) -> FaultServer:
        self._thread = threading.Thread(target=self._run, name="fault-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for task in list(self._tasks):
                task.cancel()
            self._server.close()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    # -- HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode().strip()
        if not request_line:
            return
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode().strip()):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        path = path.split("?", 1)[0]
        if method == "GET":
            await self._get(path, writer)
        elif path in CHAT_PATHS:
            ollama = path == "/api/chat"
            try:
                request = json.loads(body) if body else None
            except ValueError:
                request = ["unparseable"]
            rejection = self._rejection(ollama, request, headers)
            if rejection is not None:
                await self._send(writer, *rejection)
                return
            await self._chat(ollama, request["model"], self._next_action(), writer)
        else:
            await self._send(writer, 404, {"error": f"no route {path}"})

    def _rejection(self, ollama: bool, request: Any, headers: dict[str, str]) -> tuple[int, Any] | None:
        """The status and body the real service answers a malformed request with; None when it accepts it."""
        if ollama:
            try:
                model = ollama_rules.validate_chat(request)
                if model not in self.tags and f"{model}:latest" not in self.tags:
                    raise ollama_rules.not_found(model)
            except ollama_rules.OllamaError as error:
                return error.status, error.body()
            return None
        try:
            openai_rules.check_key(headers, None)
            openai_rules.validate_chat(request, target="openai", known_models=self.tags)
        except openai_rules.OpenAIError as error:
            return error.status, error.body()
        return None

    async def _get(self, path: str, writer: asyncio.StreamWriter) -> None:
        if path == "/api/tags":
            await self._send(writer, 200, {"models": [{"name": tag, "model": tag} for tag in self.tags]})
        elif path == "/v1/models":
            await self._send(writer, 200, {"object": "list", "data": [{"id": tag, "object": "model"} for tag in self.tags]})
        elif path == "/api/version":
            await self._send(writer, 200, {"version": "fault-double"})
        else:
            await self._send(writer, 404, {"error": "not found"})

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error", 503: "Service Unavailable"}[status]
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}",
                "Connection: close", *(f"{k}: {v}" for k, v in (extra or {}).items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    async def _chat(self, ollama: bool, model: str, action: str, writer: asyncio.StreamWriter) -> None:
        name, _, argument = action.partition(":")
        if name == "hang":
            await asyncio.sleep(3600)
            return
        if name in ("500", "503", "429") and ollama:  # Ollama's errors are `{"error": "<text>"}`
            await self._send(writer, int(name), {"error": f"the fault server answered {name} on purpose"},
                             {"Retry-After": argument} if argument else None)
            return
        if name == "crash" and ollama and int(argument) == 0:  # nothing written yet: the error is the status
            await self._send(writer, 500, {"error": RUNNER_CRASH})
            return
        error = None if ollama or name in ("ok", "slow", "die", "crash") else openai_rules.scripted_error(action)
        if error is not None:
            await self._send(writer, error.status, error.body(), error.headers)
            return
        if name == "slow":
            await asyncio.sleep(float(argument))
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nContent-Type: "
                     + (b"application/x-ndjson" if ollama else b"text/event-stream") + b"\r\n\r\n")
        cut = name in ("die", "crash")
        limit = int(argument) if cut else len(TOKENS)
        for piece in _pieces(ollama, model, limit, finished=not cut):
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
            await asyncio.sleep(0.005)
        if name == "crash":
            failure = {"error": RUNNER_CRASH} if ollama else openai_rules.server_error().body()
            piece = (json.dumps(failure) + "\n").encode() if ollama else _sse(failure)
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n0\r\n\r\n")
            await writer.drain()
            return
        if cut:
            writer.transport.abort()  # cut mid-stream: no terminating chunk
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def _pieces(ollama: bool, model: str, limit: int, *, finished: bool) -> Iterator[bytes]:
    for token in TOKENS[:limit]:
        if ollama:
            yield (json.dumps({"model": model, "created_at": "2026-11-22T00:00:00Z",
                               "message": {"role": "assistant", "content": token}, "done": False}) + "\n").encode()
        else:
            yield _sse({"id": "fault", "object": "chat.completion.chunk", "created": 0, "model": model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": token},
                                     "finish_reason": None}]})
    if not finished:
        return
    if ollama:
        yield (json.dumps({"model": model, "created_at": "2026-11-22T00:00:00Z",
                           "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                           "total_duration": 1000, "load_duration": 100, "prompt_eval_count": 5,
                           "prompt_eval_duration": 100, "eval_count": limit, "eval_duration": 900}) + "\n").encode()
    else:
        yield _sse({"id": "fault", "object": "chat.completion.chunk", "created": 0, "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        yield _sse({"id": "fault", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
                    "usage": {"prompt_tokens": 5, "completion_tokens": limit, "total_tokens": 5 + limit}})
        yield b"data: [DONE]\n\n"


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()
