"""Which OpenAI-protocol engine a base URL is, and the request parameters that engine accepts.

The engines differ where it matters:
- `openai` (api.openai.com): the completion limit is `max_completion_tokens`; sending `max_tokens` beside it
  is a 400 (`invalid_parameter_combination`), and unknown fields are a 400 too.
- `azure` (Azure OpenAI): OpenAI's rules, a deployment in the URL, an `api-key` header and an `api-version`.
- `vllm`: reads either limit and ignores unknown fields; `max_tokens` works on every version.
- `llamacpp` (`llama_cpp.server`, `llama-server`): reads `max_tokens` only, so `max_completion_tokens` alone
  leaves the generation unbounded; it serves one choice (`n` = 1).
- `ollama` (Ollama's `/v1`): reads `max_tokens` only (`openai/openai.go`, `ChatCompletionRequest.MaxTokens`,
  turned into `num_predict`); its GET /v1/models names each model's namespace as `owned_by` (`library`).
- `unknown`: a self-hosted engine that has not said which it is (down, slow or auth-protected at start, or an
  owner peptalk does not know). It is sent `max_tokens`, the limit every engine reads, so no node is left
  unbounded; OpenAI itself accepts it too, except from reasoning models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

OpenAITarget = Literal["openai", "azure", "vllm", "llamacpp", "ollama"]
TargetSetting = Literal["auto", "openai", "azure", "vllm", "llamacpp", "ollama"]
NodeTarget = OpenAITarget | Literal["unknown"]  # what `auto` knows about a node; `unknown` until it says

AZURE_HOST_SUFFIXES = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")
# GET /models `owned_by` of the self-hosted engines: vLLM "vllm"; llama-cpp-python "me"; llama.cpp's llama-server
# "llamacpp"; Ollama's /v1 the model's namespace, "library" for every model of its own registry.
OWNERS: dict[str, OpenAITarget] = {"vllm": "vllm", "llamacpp": "llamacpp", "me": "llamacpp", "library": "ollama"}
# What OpenAI's own GET /models says: its models, system models, and fine-tunes owned by a user or organisation.
OPENAI_OWNERS = frozenset({"openai", "system", "openai-internal"})
OPENAI_OWNER_PREFIXES = ("user-", "org-")


@dataclass(frozen=True)
class TargetParams:
    """The request parameters one engine is sent."""

    token_limit_field: Literal["max_completion_tokens", "max_tokens"]
    stream_usage: bool  # `stream_options: {"include_usage": true}` on streams


PARAMS: dict[NodeTarget, TargetParams] = {
    "openai": TargetParams("max_completion_tokens", stream_usage=True),
    "azure": TargetParams("max_completion_tokens", stream_usage=True),  # api-version 2024-09-01-preview and later
    "vllm": TargetParams("max_tokens", stream_usage=True),
    "llamacpp": TargetParams("max_tokens", stream_usage=True),  # ignored by llama_cpp.server, read by llama-server
    "ollama": TargetParams("max_tokens", stream_usage=True),  # reads `stream_options.include_usage` (e28f2d4, 2024-12)
    "unknown": TargetParams("max_tokens", stream_usage=True),  # every engine reads `max_tokens`
}


def target_from_url(url: str | None) -> OpenAITarget | None:
    """The target a base URL names by its host alone (None: a self-hosted engine, ask it)."""
    if url is None:
        return "openai"
    host = (urlparse(url).hostname or "").lower()
    if host == "api.openai.com":
        return "openai"
    if host.endswith(AZURE_HOST_SUFFIXES):
        return "azure"
    return None


def _is_openai_owner(owner: str) -> bool:
    return owner in OPENAI_OWNERS or owner.startswith(OPENAI_OWNER_PREFIXES)


def target_from_models(listing: Mapping[str, Any]) -> NodeTarget:
    """The target a GET /models answer describes: an engine's owner names it, OpenAI's owners make `openai`;
    anything else (no models, an owner peptalk does not know) is `unknown`, sent what every engine reads."""
    owners = {str(entry.get("owned_by", "")).lower() for entry in listing.get("data") or [] if isinstance(entry, dict)}
    for owner in sorted(owners):
        if owner in OWNERS:
            return OWNERS[owner]
    if owners and all(_is_openai_owner(owner) for owner in owners):
        return "openai"
    return "unknown"


def request_kwargs(target: NodeTarget, *, max_tokens: int) -> dict[str, Any]:
    """The `ChatOpenAI` keyword arguments that send exactly the target's parameters."""
    params = PARAMS[target]
    kwargs: dict[str, Any] = {"stream_usage": params.stream_usage}
    if params.token_limit_field == "max_completion_tokens":
        kwargs["max_completion_tokens"] = max_tokens
    else:
        # ChatOpenAI renames its own `max_tokens` to `max_completion_tokens`, so the field goes in the body as is.
        kwargs["extra_body"] = {"max_tokens": max_tokens}
    return kwargs
