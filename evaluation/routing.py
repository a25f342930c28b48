"""The router the evaluation calls through: built from the settings, started, and closed afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from peptalk.settings import Settings
from router import Router, build_backends
from router.config import load_router_config


@asynccontextmanager
async def open_router(settings: Settings, *, models: list[str]) -> AsyncIterator[Router]:
    """A started `Router` that knows every model in `models` (`UnknownModelError` names one it does not).

    It keeps the router config's nodes, retries and breakers, but a pinned model never falls back to another:
    an answer in the dataset, or a judge's verdict, must come from the model it is credited to.
    """
    config = load_router_config(settings).model_copy(update={"pinned_fallback": False})
    router = Router(build_backends(settings), default_model=models[0] if models else settings.default_model,
                    config=config)
    for model in models:
        router.resolve(model)
    await router.start()
    try:
        yield router
    finally:
        await router.aclose()
