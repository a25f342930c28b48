"""The router the evaluation calls through: built from the settings, started, and closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from peptalk.settings import Settings
from router import Backend, Router, build_backends
from router.config import load_router_config
from router.errors import ConfigError, UnknownModelError


def _check_known(backends: dict[str, Backend], models: list[str], role: str) -> None:
    """`ConfigError` naming `role` (`--models`, `judge` ...) and the configured models when one is unknown."""
    known = [f"{name}:{model}" for name, backend in backends.items() for model in backend.models()]
    for model in models:
        backend, _, name = model.strip().partition(":")
        if backend not in backends or name not in backends[backend].models():
            raise ConfigError(f"{role}: {UnknownModelError(model, known)}; configure it with PEPTALK_BACKENDS "
                              f"and the backend's PEPTALK_*_MODELS")


@asynccontextmanager
async def open_router(settings: Settings, *, models: list[str], role: str = "--models") -> AsyncIterator[Router]:
    """A started `Router` that knows every model in `models` (`ConfigError` names `role` and an unknown model).

    It keeps the router config's nodes, retries and breakers, but a pinned model never falls back to another:
    an answer in the dataset, or a judge's verdict, must come from the model it is credited to.
    """
    config = load_router_config(settings).model_copy(update={"pinned_fallback": False})
    backends = build_backends(settings)
    _check_known(backends, models, role)
    router = Router(backends, default_model=models[0] if models else settings.default_model, config=config)
    await router.start()
    try:
        yield router
    finally:
        await router.aclose()
