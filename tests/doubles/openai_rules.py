"""The request rules of OpenAI's POST /v1/chat/completions, shared by every OpenAI-protocol double.

Written from OpenAI's API reference (`CreateChatCompletionRequest` in openai/openai-openapi, the source the
`openai` client's `completion_create_params.py` is generated from) and the error bodies the API really returns:
`{"error": {"message", "type", "param", "code"}}`. `validate_chat(body, target=...)` raises `OpenAIError`
for what the target rejects; `TARGETS` holds one rule set per engine peptalk may talk to.
Production code never imports this module.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from router.backends.openai_models import is_reasoning_model, refused_sampling

TargetName = Literal["openai", "azure", "vllm", "llamacpp", "ollama"]

# Every top-level field of CreateChatCompletionRequest, as the `openai` 3.x client's generated
# `completion_create_params` lists them (a test keeps the two equal); anything else is "unrecognized".
OPENAI_FIELDS = frozenset({
    "messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
# vLLM's ChatCompletionRequest adds its own sampling parameters on top of OpenAI's.
VLLM_EXTRA_FIELDS = frozenset({
    "top_k", "min_p", "repetition_penalty", "length_penalty", "stop_token_ids", "include_stop_str_in_output",
    "ignore_eos", "min_tokens", "skip_special_tokens", "spaces_between_special_tokens", "echo",
    "add_generation_prompt", "continue_final_message", "chat_template", "chat_template_kwargs",
    "guided_json", "guided_regex", "guided_choice", "guided_grammar", "priority", "request_id",
})
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
MESSAGE_FIELDS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "name", "refusal", "audio", "tool_calls", "function_call"}),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}


class OpenAIError(Exception):
    """An error the API answers with: HTTP status, the `error` object, and extra headers."""

    def __init__(self, status: int, message: str, *, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad(message: str, *, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


# The API's other errors, as it words them.
def unauthorized(key: str | None) -> OpenAIError:
    if not key:
        return OpenAIError(401, "You didn't provide an API key. You need to provide your API key in an "
                                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
    shown = f"{key[:3]}*{key[-4:]}" if len(key) > 8 else "*" * len(key)
    return OpenAIError(401, f"Incorrect API key provided: {shown}. You can find your API key at "
                            "https://platform.openai.com/account/api-keys.", code="invalid_api_key")


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       code="model_not_found")


def rate_limited(retry_after_s: float | None, *, milliseconds: bool = False) -> OpenAIError:
    """A rate limit 429: `Retry-After` in seconds, Azure's `retry-after-ms`, or (None) no header at all."""
    headers: dict[str, str] = {}
    if retry_after_s is not None:
        headers = {"retry-after-ms": f"{retry_after_s * 1000:g}"} if milliseconds else {"Retry-After": f"{retry_after_s:g}"}
    wait = f" Please try again in {retry_after_s:g}s." if retry_after_s is not None else ""
    return OpenAIError(429, f"Rate limit reached for requests.{wait}", type_="requests", code="rate_limit_exceeded",
                       headers=headers)


def insufficient_quota() -> OpenAIError:
    """The 429 of an account whose credit or quota is spent; no `Retry-After`, waiting does not fix it."""
    return OpenAIError(429, "You exceeded your current quota, please check your plan and billing details. For more "
                            "information on this error, read the docs: "
                            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                       type_="insufficient_quota", code="insufficient_quota")


def server_error() -> OpenAIError:
    return OpenAIError(500, "The server had an error while processing your request. Sorry about that!",
                       type_="server_error")


def overloaded() -> OpenAIError:
    return OpenAIError(503, "The engine is currently overloaded, please try again later", type_="server_error")


def fault(status: int, *, retry_after_s: float | None = None) -> OpenAIError:
    """The API's error for one of the statuses a fault script names (401, 404, 429, 500, 503)."""
    makers = {401: lambda: unauthorized("sk-revoked-key"), 404: lambda: model_not_found("gpt-4"),
              429: lambda: rate_limited(retry_after_s), 500: server_error, 503: overloaded}
    return makers[status]()


# Fault-script actions every OpenAI-protocol double reads (the last one of a script repeats).
SCRIPT_HELP = ("ok | 401 | 404 | 500 | 503 | 429 (no Retry-After) | 429:S (Retry-After S) | 429ms:S (Azure's "
               "retry-after-ms) | quota (429 insufficient_quota) | event:N[:STATUS] (a 200 stream, N tokens, then "
               "an in-stream error event naming STATUS, default 500)")


def scripted_error(action: str) -> OpenAIError | None:
    """The HTTP error a fault-script action answers with before any stream; None for `ok` and `event:...`."""
    name, _, argument = action.partition(":")
    if name in ("ok", "event"):
        return None
    if name == "quota":
        return insufficient_quota()
    if name == "429ms":
        return rate_limited(float(argument), milliseconds=True)
    return fault(int(name), retry_after_s=float(argument) if argument else None)


def scripted_event(action: str) -> tuple[int, OpenAIError] | None:
    """For `event:N[:STATUS]`: after how many tokens the stream fails, and the error its event carries."""
    name, _, argument = action.partition(":")
    if name != "event":
        return None
    after, _, status = argument.partition(":")
    return int(after or 0), insufficient_quota() if status == "quota" else fault(int(status or 500))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def _invalid_type(param: str, expected: str, value: Any) -> OpenAIError:
    return bad(f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
               param=param, code="invalid_type")


def _integer(body: Mapping[str, Any], name: str, low: int | None = None, high: int | None = None) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_type(name, "an integer", value)
    if low is not None and value < low:
        raise bad(f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, but got {value} "
                  "instead.", param=name, code="integer_below_min_value")
    if high is not None and value > high:
        raise bad(f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, but got {value} "
                  "instead.", param=name, code="integer_above_max_value")


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid_type(name, "a decimal", value)
    if value < low:
        raise bad(f"Invalid '{name}': decimal below minimum value. Expected a value >= {low:g}, but got {value} "
                  "instead.", param=name, code="decimal_below_min_value")
    if value > high:
        raise bad(f"Invalid '{name}': decimal above maximum value. Expected a value <= {high:g}, but got {value} "
                  "instead.", param=name, code="decimal_above_max_value")


def _boolean(body: Mapping[str, Any], name: str) -> None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _invalid_type(name, "a boolean", value)


def _content(index: int, role: str, message: Mapping[str, Any]) -> None:
    param = f"messages[{index}].content"
    if "content" not in message or message["content"] is None:
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            return
        if role == "assistant" and "content" in message:
            return  # null content is allowed on assistant messages
        raise bad(f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    content = message["content"]
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _invalid_type(param, "one of a string or array of objects", content)
    allowed = {"text"} if role in ("system", "developer", "tool", "assistant") else {"text", "image_url",
                                                                                        "input_audio", "file"}
    for part_index, part in enumerate(content):
        part_param = f"{param}[{part_index}]"
        if not isinstance(part, dict):
            raise _invalid_type(part_param, "an object", part)
        if part.get("type") not in allowed:
            raise bad(f"Invalid value: '{part.get('type')}'. Supported values are: "
                      + ", ".join(f"'{name}'" for name in sorted(allowed)) + ".",
                      param=f"{part_param}.type", code="invalid_value")
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise bad(f"Missing required parameter: '{part_param}.text'.", param=f"{part_param}.text",
                      code="missing_required_parameter")


def _messages(body: Mapping[str, Any]) -> None:
    if "messages" not in body:
        raise bad("Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise _invalid_type("messages", "an array of objects", messages)
    if not messages:
        raise bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty "
                  "array instead.", param="messages", code="empty_array")
    tool_call_ids: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise _invalid_type(f"messages[{index}]", "an object", message)
        if "role" not in message:
            raise bad(f"Missing required parameter: 'messages[{index}].role'.", param=f"messages[{index}].role",
                      code="missing_required_parameter")
        role = message["role"]
        if role not in ROLES:
            raise bad(f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', "
                      "'tool', and 'developer'.", param=f"messages[{index}].role", code="invalid_value")
        extra = sorted(set(message) - MESSAGE_FIELDS[role])
        if extra:
            raise bad(f"Additional properties are not allowed ('{extra[0]}' was unexpected) - 'messages.{index}'")
        if "name" in message and not isinstance(message["name"], str):
            raise _invalid_type(f"messages[{index}].name", "a string", message["name"])
        _content(index, role, message)
        if role == "assistant":
            tool_call_ids |= {call.get("id") for call in message.get("tool_calls") or [] if isinstance(call, dict)}
        if role == "tool":
            if not isinstance(message.get("tool_call_id"), str):
                raise bad(f"Missing required parameter: 'messages[{index}].tool_call_id'.",
                          param=f"messages[{index}].tool_call_id", code="missing_required_parameter")
            if message["tool_call_id"] not in tool_call_ids:
                raise bad("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                          "with 'tool_calls'.", param=f"messages.[{index}].role")


def _stream(body: Mapping[str, Any]) -> None:
    _boolean(body, "stream")
    options = body.get("stream_options")
    if options is None:
        return
    if not body.get("stream"):
        raise bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options")
    if not isinstance(options, dict):
        raise _invalid_type("stream_options", "an object", options)
    for key, value in options.items():
        if key not in ("include_usage", "include_obfuscation"):
            raise bad(f"Unrecognized request argument supplied: stream_options.{key}", param=None)
        if not isinstance(value, bool):
            raise _invalid_type(f"stream_options.{key}", "a boolean", value)


def _stop(body: Mapping[str, Any]) -> None:
    stop = body.get("stop")
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        raise _invalid_type("stop", "one of a string or array of strings", stop)
    if len(stop) > 4:
        raise bad(f"Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with "
                  f"length {len(stop)} instead.", param="stop", code="array_above_max_length")


@dataclass(frozen=True)
class TargetRules:
    """What one engine accepts on /chat/completions."""

    name: TargetName
    fields: frozenset[str]
    unknown_rejected: bool  # OpenAI and Azure: 400 "Unrecognized request argument"; vLLM and llama.cpp ignore them
    model_required: bool = True
    both_token_limits_rejected: bool = True
    token_limit_read: tuple[str, ...] = ("max_completion_tokens", "max_tokens")  # what bounds the generation
    max_choices: int = 128


TARGETS: dict[TargetName, TargetRules] = {
    "openai": TargetRules("openai", OPENAI_FIELDS, unknown_rejected=True),
    # Azure names the deployment in the URL; the body's model is optional.
    "azure": TargetRules("azure", OPENAI_FIELDS, unknown_rejected=True, model_required=False),
    # vLLM reads either limit (max_completion_tokens first) and ignores unknown fields with a warning.
    "vllm": TargetRules("vllm", OPENAI_FIELDS | VLLM_EXTRA_FIELDS, unknown_rejected=False,
                        both_token_limits_rejected=False),
    # llama.cpp's servers read `max_tokens` only: `max_completion_tokens` alone leaves the generation unbounded.
    "llamacpp": TargetRules("llamacpp", OPENAI_FIELDS, unknown_rejected=False, both_token_limits_rejected=False,
                            token_limit_read=("max_tokens",), max_choices=1),
    # Ollama's /v1 (openai/openai.go): Go's decoder ignores unknown fields; `max_tokens` becomes `num_predict`.
    "ollama": TargetRules("ollama", OPENAI_FIELDS, unknown_rejected=False, both_token_limits_rejected=False,
                          token_limit_read=("max_tokens",)),
}


def validate_chat(body: Any, *, target: TargetName = "openai", known_models: Collection[str] | None = None) -> None:
    """Raises the `OpenAIError` the target answers `body` with; returns when the target would accept it."""
    rules = TARGETS[target]
    if not isinstance(body, dict):
        raise bad("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
                  "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
                  "JSON.)")
    if rules.unknown_rejected:
        unknown = sorted(set(body) - rules.fields)
        if len(unknown) == 1:
            raise bad(f"Unrecognized request argument supplied: {unknown[0]}")
        if unknown:
            raise bad(f"Unrecognized request arguments supplied: {', '.join(unknown)}")
    model = body.get("model")
    if rules.model_required and not model:
        raise bad("you must provide a model parameter")
    if model is not None and not isinstance(model, str):
        raise _invalid_type("model", "a string", model)
    _messages(body)
    if rules.both_token_limits_rejected and body.get("max_tokens") is not None \
            and body.get("max_completion_tokens") is not None:
        raise bad("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
                  param="max_tokens", code="invalid_parameter_combination")
    reasoning = isinstance(model, str) and is_reasoning_model(model)
    if target in ("openai", "azure") and reasoning and body.get("max_tokens") is not None:
        raise bad("Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                  "'max_completion_tokens' instead.", param="max_tokens", code="unsupported_parameter")
    _integer(body, "max_tokens", low=1)
    _integer(body, "max_completion_tokens", low=1)
    _integer(body, "n", low=1, high=rules.max_choices)
    _integer(body, "seed")
    _integer(body, "top_logprobs", low=0, high=20)
    _number(body, "temperature", 0.0, 2.0)
    _number(body, "top_p", 0.0, 1.0)
    _number(body, "frequency_penalty", -2.0, 2.0)
    _number(body, "presence_penalty", -2.0, 2.0)
    refused = refused_sampling(model, body) if target in ("openai", "azure") else None
    if refused is not None:
        name, value = refused
        raise bad(f"Unsupported value: '{name}' does not support {value:g} with this model. Only the default (1) "
                  "value is supported.", param=name, code="unsupported_value")
    _boolean(body, "logprobs")
    _boolean(body, "parallel_tool_calls")
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise bad("Invalid value for 'top_logprobs': 'logprobs' must be set to 'true' when 'top_logprobs' is "
                  "specified.", param="top_logprobs", code="invalid_value")
    if body.get("tool_choice") is not None and not body.get("tools"):
        raise bad("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                  param="tool_choice")
    _stream(body)
    _stop(body)
    response_format = body.get("response_format")
    if response_format is not None and (not isinstance(response_format, dict)
                                        or response_format.get("type") not in ("text", "json_object", "json_schema")):
        raise bad("Invalid value for 'response_format.type': expected one of 'text', 'json_object', 'json_schema'.",
                  param="response_format.type", code="invalid_value")
    if known_models is not None and model and model not in known_models:
        raise model_not_found(model)


def token_limit(body: Mapping[str, Any], *, target: TargetName) -> int | None:
    """The completion-token limit `target` applies to `body` (None: it generates until the context ends)."""
    for name in TARGETS[target].token_limit_read:
        if body.get(name) is not None:
            return int(body[name])
    return None


def bearer_key(headers: Mapping[str, str]) -> str | None:
    """The API key of an `Authorization: Bearer ...` header (header names lower-cased)."""
    value = headers.get("authorization", "")
    scheme, _, key = value.partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def check_key(headers: Mapping[str, str], api_keys: Collection[str] | None, *, azure: bool = False) -> None:
    """401 without a key, or with one outside `api_keys` (None: any non-empty key is accepted)."""
    key = headers.get("api-key") if azure else bearer_key(headers)
    if not key or (api_keys is not None and key not in api_keys):
        raise unauthorized(key)


def models_list(names: Collection[str], *, owned_by: str = "openai") -> dict[str, Any]:
    """GET /v1/models as OpenAI answers it (another engine's answer differs in `owned_by` only)."""
    return {"object": "list",
            "data": [{"id": name, "object": "model", "created": 1687882411, "owned_by": owned_by} for name in names]}
