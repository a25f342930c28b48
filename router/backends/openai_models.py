"""Per-model request rules of OpenAI's API: the reasoning models and the sampling parameters they refuse.

The one list of them, read by the `openai` backend (what it sends) and by the OpenAI double (what it refuses).
Source: OpenAI's reasoning guide (platform.openai.com/docs/guides/reasoning, "Limitations") and the API's own
answer to a reasoning model sent a sampling value: 400 `{"message": "Unsupported value: 'temperature' does not
support 0.7 with this model. Only the default (1) value is supported.", "type": "invalid_request_error",
"param": "temperature", "code": "unsupported_value"}` (o1, o3, o4-mini, gpt-5 and its -mini/-nano); the same
for `top_p`. They also refuse `max_tokens` (`unsupported_parameter`: "Use 'max_completion_tokens' instead").
`gpt-5-chat-*` is GPT-5's non-reasoning chat model and takes sampling parameters as other chat models do.
"""

from __future__ import annotations

REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
NOT_REASONING_PREFIXES = ("gpt-5-chat",)
# Sampling parameters a reasoning model accepts only at their default value.
FIXED_SAMPLING: dict[str, float] = {"temperature": 1.0, "top_p": 1.0}


def is_reasoning_model(model: str | None) -> bool:
    """Whether OpenAI's API serves `model` as a reasoning model (by name; a dated snapshot counts too)."""
    name = (model or "").lower()
    return name.startswith(REASONING_PREFIXES) and not name.startswith(NOT_REASONING_PREFIXES)


def refused_sampling(model: str | None, params: dict[str, object]) -> tuple[str, object] | None:
    """The first sampling parameter in `params` the API refuses for `model`, with its value; None if none."""
    if not is_reasoning_model(model):
        return None
    for name, default in FIXED_SAMPLING.items():
        value = params.get(name)
        if value is not None and value != default:
            return name, value
    return None
