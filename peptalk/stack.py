"""The serving stack: the router at the bottom, then the layers of `LAYERS` in order, each with its own service.

One call goes down the stack from the top (metrics -> rollout -> shadow -> cache -> router) and its chunks come back up.
The services start bottom-up (router, cache, shadow writer, rollout) and stop top-down, so the shadow queue
drains while the router and the cache are still open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

from peptalk.settings import Settings
from router.call import ChatLayer
from router.router import Router

log = logging.getLogger("peptalk.stack")
T = TypeVar("T")


@runtime_checkable
class Service(Protocol):
    """Something a layer needs running while peptalk serves: started once, stopped once."""

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Layer:
    """One built layer of the stack, and the service it needs running (if any)."""

    name: str
    layer: ChatLayer
    service: Service | None = None


# A layer's factory: the settings, the router and the layer beneath -> the layer, or None when switched off.
LayerFactory = Callable[[Settings, Router, ChatLayer], Layer | None]


def semantic_cache(settings: Settings, router: Router, inner: ChatLayer) -> Layer | None:
    """The semantic cache (`PEPTALK_CACHE_ENABLED`), just above the router: candidates never touch it."""
    if not settings.cache_enabled:
        return None
    from peptalk.cache import SemanticCacheLayer, build_semantic_cache, pinned_or_default_model

    cache = build_semantic_cache(settings)
    layer = SemanticCacheLayer(inner, cache, model_for=lambda call: pinned_or_default_model(router, call),
                               scope=settings.cache_scope, model_in_key=settings.cache_model_in_key)
    return Layer("cache", layer, cache)


def shadow(settings: Settings, router: Router, inner: ChatLayer) -> Layer | None:
    """Shadow traffic to candidate models (`PEPTALK_SHADOW_CANDIDATES`), above the cache: it logs cache hits too."""
    from peptalk.shadow.factory import shadow_layer

    layer = shadow_layer(settings, inner, router)
    return None if layer is None else Layer("shadow", layer, layer)


def rollout(settings: Settings, router: Router, inner: ChatLayer) -> Layer | None:
    """The live rollout stage applied to routing (`PEPTALK_ROLLOUT_ENABLED`), above shadow traffic."""
    if not settings.rollout_enabled:
        return None
    from peptalk.observability import load_prices
    from peptalk.rollout.factory import rollout_service

    service = rollout_service(settings, inner, router, prices=load_prices(settings.price_table))
    return None if service is None else Layer("rollout", service.layer, service)


def metrics(settings: Settings, router: Router, inner: ChatLayer) -> Layer:
    """Latency, tokens and cost by served model; outermost, so it sees what really served."""
    from peptalk.observability import MetricsLayer, load_prices

    return Layer("metrics", MetricsLayer(inner, prices=load_prices(settings.price_table)))


# Bottom-up, right above the router. A new feature adds its factory here, and nowhere else: whatever needs a
# built layer or service later (routes, erasure, the fast path) asks the `PepTalk` for it by its type.
LAYERS: tuple[LayerFactory, ...] = (semantic_cache, shadow, rollout, metrics)


@dataclass
class Stack:
    """The router and the layers built over it, bottom-up; `top` is what the chain calls."""

    router: Router
    layers: list[Layer] = field(default_factory=list)

    @property
    def top(self) -> ChatLayer:
        return self.layers[-1].layer if self.layers else self.router

    def layer(self, kind: type[T]) -> T | None:
        """The built layer of type `kind`, or None when it is switched off."""
        for built in self.layers:
            if isinstance(built.layer, kind):
                return built.layer
        return None

    def service(self, kind: type[T]) -> T | None:
        """The running service of type `kind` (a layer's cache, rollout, ...), or None when it is switched off."""
        for built in self.layers:
            if isinstance(built.service, kind):
                return built.service
        return None

    def names(self) -> list[str]:
        """The built layers' names, bottom-up."""
        return [built.name for built in self.layers]

    def services(self) -> list[Service]:
        """Every service in start order: the router first, then each layer's from the bottom up."""
        return [self.router, *(built.service for built in self.layers if built.service is not None)]

    async def start(self) -> None:
        """Starts every service bottom-up; when one fails, those already started are stopped again."""
        started: list[Service] = []
        try:
            for service in self.services():
                await service.start()
                started.append(service)
        except BaseException:
            await _close_all(reversed(started))
            raise

    async def aclose(self) -> None:
        """Stops every service top-down (the shadow writer drains before the router closes)."""
        await _close_all(reversed(self.services()))


async def _close_all(services: Iterable[Service]) -> None:
    """Closes each service even when an earlier one fails; the first failure is raised at the end."""
    failure: BaseException | None = None
    for service in services:
        try:
            await service.aclose()
        except Exception as exc:  # keep closing the rest: an open router leaks connections and threads
            log.exception("stopping %s failed", type(service).__name__)
            failure = failure or exc
    if failure is not None:
        raise failure


def build_stack(settings: Settings, *, router: Router | None = None,
                layers: Sequence[LayerFactory] = LAYERS) -> Stack:
    """Builds the router (unless given) and each enabled layer over it; nothing starts or connects here."""
    from router.registry import build_router

    stack = Stack(router or build_router(settings))
    for factory in layers:
        built = factory(settings, stack.router, stack.top)
        if built is not None:
            stack.layers.append(built)
    return stack
