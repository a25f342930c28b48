"""The backend registry: backend name -> factory that builds it from the settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from router.backends.embedded import EmbeddedBackend
from router.backends.embedded_server import EmbeddedServerBackend
from router.backends.ollama import OllamaBackend
from router.backends.openai import OpenAIBackend
from router.base import Backend
from router.errors import ConfigError
from router.generation import generation_for
from router.settings import RouterSettings

if TYPE_CHECKING:
    from router.router import Router


def own_limits(settings: RouterSettings, backend: str, models: list[str]) -> dict[str, int]:
    """The models of `backend` whose limit is not the setting's (their catalog's own `max_tokens`)."""
    limits = {model: generation_for(settings, backend, model).max_tokens for model in models}
    return {model: limit for model, limit in limits.items() if limit != settings.max_tokens}


def _embedded(settings: RouterSettings) -> Backend:
    generation = generation_for(settings, "embedded", settings.embedded_model_name)
    model_path = str(settings.embedded_model_path) if settings.embedded_model_path else None
    if settings.embedded_engine == "server":
        return EmbeddedServerBackend(
            model_name=settings.embedded_model_name, model_path=model_path, n_ctx=settings.embedded_n_ctx,
            n_threads=settings.embedded_threads, parallel=settings.embedded_parallel,
            binary=str(settings.llama_server_bin) if settings.llama_server_bin else None,
            port=settings.llama_server_port, generation=generation, timeout_s=settings.request_timeout_s,
            api_version=settings.openai_api_version)
    return EmbeddedBackend(model_name=settings.embedded_model_name, model_path=model_path,
                           n_ctx=settings.embedded_n_ctx, n_threads=settings.embedded_threads, generation=generation)


def _openai(settings: RouterSettings) -> Backend:
    return OpenAIBackend(
        models=settings.openai_models,
        base_url=settings.openai_base_url,
        base_urls=settings.openai_base_urls,
        api_key=settings.openai_api_key,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout_s=settings.request_timeout_s,
        target=settings.openai_target,
        api_version=settings.openai_api_version,
        model_max_tokens=own_limits(settings, "openai", settings.openai_models),
    )


def _ollama(settings: RouterSettings) -> Backend:
    return OllamaBackend(
        models=settings.ollama_models,
        base_urls=settings.ollama_base_urls or [settings.ollama_base_url],
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        timeout_s=settings.request_timeout_s,
        model_max_tokens=own_limits(settings, "ollama", settings.ollama_models),
    )


BACKENDS: dict[str, Callable[[RouterSettings], Backend]] = {
    "embedded": _embedded,
    "openai": _openai,
    "ollama": _ollama,
}


def build_backends(settings: RouterSettings) -> dict[str, Backend]:
    """One backend object per enabled backend; nothing is loaded or connected yet."""
    unknown = [name for name in settings.backends if name not in BACKENDS]
    if unknown:
        raise ConfigError(f"unknown backend(s) {unknown}; known: {sorted(BACKENDS)}")
    return {name: BACKENDS[name](settings) for name in settings.backends}


def build_router(settings: RouterSettings) -> Router:
    """The router the settings describe: backends, plus the policy, nodes and fault tolerance of the router config."""
    from router.config import load_router_config
    from router.router import Router

    return Router(build_backends(settings), default_model=settings.default_model, config=load_router_config(settings))
