"""What Ollama's server accepts on /api/chat and /api/generate, and the errors it answers with.

Written from Ollama's API documentation (docs/api.md) and its server, checked against ollama/ollama v0.33.0-rc2
(commit fb30760, 2026-08-21): `server/routes.go` (`ChatHandler`, `GenerateHandler`, `PullHandler`,
`scheduleRunner`, `handleScheduleError`, `streamResponse`) and `api/types.go` (`Message`, `Options.FromMap`).
Ollama decodes bodies with Go's `encoding/json`: unknown top-level fields are ignored and a field of the wrong
type is a 400. Options are read later, when the runner is scheduled: unknown keys are ignored with a warning,
and a wrong-typed option fails `FromMap`, which `handleScheduleError` answers with a 500. A message's `role` is a
plain string: a message without one decodes as role "" and is accepted. Errors are `{"error": "<text>"}`.
Production code never imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ROLES = ("system", "user", "assistant", "tool")
# api.Options / api.Runner fields and their JSON types (a subset peptalk and its tests touch, plus the common ones).
INT_OPTIONS = ("num_predict", "num_ctx", "num_keep", "seed", "top_k", "repeat_last_n", "num_batch", "num_gpu",
               "num_thread", "mirostat")
FLOAT_OPTIONS = ("temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty",
                 "frequency_penalty", "mirostat_tau", "mirostat_eta")


class OllamaError(Exception):
    """An error Ollama answers with: the HTTP status and the `error` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.message}


def not_found(model: str) -> OllamaError:
    return OllamaError(404, f'model "{model}" not found, try pulling it first')


def _go_type(value: Any) -> str:
    return {bool: "bool", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), "null")


def _unmarshal(value: Any, field: str, go_type: str) -> OllamaError:
    return OllamaError(400, f"json: cannot unmarshal {_go_type(value)} into Go struct field {field} of type {go_type}")


def _options_shape(options: Any) -> None:
    """The decode step: `options` must be a JSON object (a 400 otherwise)."""
    if options is not None and not isinstance(options, dict):
        raise _unmarshal(options, "ChatRequest.options", "map[string]interface {}")


def check_options(options: Any) -> None:
    """The scheduling step (`Options.FromMap`): a wrong-typed option is a 500, as `handleScheduleError` answers."""
    if not options:
        return
    for key in INT_OPTIONS:
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):  # 8.5 is cut to 8
            raise OllamaError(500, f"option \"{key}\" must be of type integer")
    for key in FLOAT_OPTIONS:
        value = options.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise OllamaError(500, f"option \"{key}\" must be of type float32")
    stop = options.get("stop")
    if stop is not None and not isinstance(stop, list):
        raise OllamaError(500, "option \"stop\" must be of type array")
    if stop is not None and not all(isinstance(item, str) for item in stop):
        raise OllamaError(500, "option \"stop\" must be of an array of strings")


def _common(body: Any, kind: str) -> str:
    if body is None:
        raise OllamaError(400, "missing request body")
    if not isinstance(body, dict):
        raise OllamaError(400, f"json: cannot unmarshal {_go_type(body)} into Go value of type api.{kind}")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise _unmarshal(model, f"{kind}.model", "string")
    if not model:
        raise OllamaError(400, "model is required")
    if "stream" in body and body["stream"] is not None and not isinstance(body["stream"], bool):
        raise _unmarshal(body["stream"], f"{kind}.stream", "bool")
    fmt = body.get("format")
    if fmt not in (None, "", "json") and not isinstance(fmt, dict):
        raise OllamaError(400, f"invalid format: {fmt!r}; expected \"json\" or a valid JSON Schema")
    _options_shape(body.get("options"))
    return model


def validate_chat(body: Any) -> str:
    """The model a /api/chat body names; `OllamaError` for what Ollama rejects (empty `messages` is allowed)."""
    model = _common(body, "ChatRequest")
    messages = body.get("messages")
    if messages is None:
        return model
    if not isinstance(messages, list):
        raise _unmarshal(messages, "ChatRequest.messages", "[]api.Message")
    for message in messages:
        if not isinstance(message, dict):
            raise _unmarshal(message, "ChatRequest.messages", "api.Message")
        role = message.get("role")
        if role is not None and not isinstance(role, str):  # absent (or null): role "", accepted
            raise _unmarshal(role, "Message.role", "string")
        if "content" in message and not isinstance(message["content"], str):
            raise _unmarshal(message["content"], "Message.content", "string")
    return model


def validate_generate(body: Any) -> str:
    model = _common(body, "GenerateRequest")
    if "prompt" in body and not isinstance(body["prompt"], str):
        raise _unmarshal(body["prompt"], "GenerateRequest.prompt", "string")
    return model


def pull_name(body: Any) -> str:
    """The tag a /api/pull body names (`model`, or the older `name`)."""
    if not isinstance(body, Mapping):
        raise OllamaError(400, "missing request body")
    name = body.get("model") or body.get("name")
    if not isinstance(name, str) or not name:
        raise OllamaError(400, "model is required")
    return name
