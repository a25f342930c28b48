"""The router's configuration: policy, nodes, timeouts, retries and breakers, from settings and a YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from router.errors import ConfigError
from router.settings import Attempts, Backoff, Failures, PolicyName, RouterSettings, Seconds, default_of

__all__ = ["BackendConfig", "BreakerConfig", "ModelConfig", "PolicyName", "RetryConfig", "RouterConfig", "Timeouts",
           "load_router_config", "read_yaml"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetryConfig(_Strict):
    """Bounded retries of one model, only on retryable failures."""

    attempts: Attempts = default_of("retry_attempts")
    backoff_s: Backoff = default_of("retry_backoff_s")
    backoff_max_s: Backoff = default_of("retry_backoff_max_s")
    retry_after_cap_s: Backoff = default_of("retry_after_cap_s")


class BreakerConfig(_Strict):
    """When a node is taken out, and for how long."""

    failures: Failures = default_of("breaker_failures")
    cooldown_s: Seconds = default_of("breaker_cooldown_s")
    max_cooldown_s: Seconds = default_of("breaker_max_cooldown_s")


class BackendConfig(_Strict):
    """Per-backend overrides: its nodes and timeouts."""

    nodes: list[str] = Field(default_factory=list)
    timeout_s: Seconds | None = None
    first_token_timeout_s: Seconds | None = None


class ModelConfig(_Strict):
    """Per-model overrides: the nodes serving one `backend:model`."""

    nodes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Timeouts:
    """The timeouts of one backend: the whole call, and the wait for the first token."""

    total_s: float
    first_token_s: float


class RouterConfig(_Strict):
    """Everything the router decides with; see docs/router.md."""

    policy: PolicyName = default_of("routing_policy")
    fallback_chain: list[str] = Field(default_factory=list)  # empty: the default model alone
    weights: dict[str, float] = Field(default_factory=dict)
    sticky_salt: str = default_of("sticky_salt")
    pinned_fallback: bool = default_of("pinned_fallback")
    timeout_s: Seconds = default_of("request_timeout_s")
    first_token_timeout_s: Seconds = default_of("first_token_timeout_s")
    deadline_s: Seconds = default_of("request_deadline_s")
    retry: RetryConfig = Field(default_factory=RetryConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    backends: dict[str, BackendConfig] = Field(default_factory=dict)
    models: dict[str, ModelConfig] = Field(default_factory=dict)

    def timeouts_for(self, backend: str, *, in_process: bool = False) -> Timeouts:
        """The backend's own timeouts, or the top-level ones.

        An in-process backend gets no separate first-token timeout unless its entry sets one: with no
        network to stall, a slow first token means a busy CPU, which a retry would only make busier.
        """
        override = self.backends.get(backend) or BackendConfig()
        total = override.timeout_s or self.timeout_s
        first_token = override.first_token_timeout_s or (total if in_process else self.first_token_timeout_s)
        return Timeouts(total, min(first_token, total))

    def nodes_for(self, backend: str, model: str) -> list[str]:
        """Nodes set in the configuration for `backend:model` (empty: the backend's own)."""
        per_model = self.models.get(f"{backend}:{model}")
        if per_model and per_model.nodes:
            return list(per_model.nodes)
        per_backend = self.backends.get(backend)
        return list(per_backend.nodes) if per_backend else []


def _from_settings(settings: RouterSettings) -> dict[str, Any]:
    return {
        "policy": settings.routing_policy,
        "fallback_chain": settings.fallback_chain,
        "weights": settings.weights,
        "sticky_salt": settings.sticky_salt,
        "pinned_fallback": settings.pinned_fallback,
        "timeout_s": settings.request_timeout_s,
        "first_token_timeout_s": settings.first_token_timeout_s,
        "deadline_s": settings.request_deadline_s,
        "retry": {"attempts": settings.retry_attempts, "backoff_s": settings.retry_backoff_s,
                  "backoff_max_s": settings.retry_backoff_max_s, "retry_after_cap_s": settings.retry_after_cap_s},
        "breaker": {"failures": settings.breaker_failures, "cooldown_s": settings.breaker_cooldown_s,
                    "max_cooldown_s": settings.breaker_max_cooldown_s},
    }


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a router YAML file; `ConfigError` naming the file when it is missing or malformed."""
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"router config {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"router config {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"router config {path} must be a mapping, not {type(loaded).__name__}")
    return loaded


def load_router_config(settings: RouterSettings) -> RouterConfig:
    """The settings' router values, with the YAML file's keys (`PEPTALK_ROUTER_CONFIG`) laid over them."""
    values = _from_settings(settings)
    source = "settings"
    if settings.router_config is not None:
        values = _merge(values, read_yaml(settings.router_config))
        source = f"router config {settings.router_config}"
    try:
        return RouterConfig.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors())
        raise ConfigError(f"{source}: {problems}") from exc
