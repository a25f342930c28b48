"""Builds the rollout's serving parts from the settings: the routing layer, its live state and the in-app controller."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from peptalk.observability.prices import Prices
from peptalk.rollout.controller import Controller
from peptalk.rollout.layer import RolloutLayer
from peptalk.rollout.live import LiveRollout
from peptalk.rollout.store import RolloutStore
from peptalk.settings import Settings
from peptalk.shadow import BatchWriter, ShadowPolicy, SqlShadowStore
from router.call import ChatLayer
from router.router import Router

log = logging.getLogger("peptalk.rollout")


@dataclass
class RolloutService:
    """The rollout inside one app process: a layer for the serving stack, plus its background tasks."""

    layer: RolloutLayer
    store: RolloutStore
    controller: Controller | None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        await self.layer.start()
        if self.controller is not None:
            self._tasks.append(asyncio.create_task(self.controller.run_forever(), name="rollout-controller"))

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.layer.aclose()


def rollout_service(settings: Settings, inner: ChatLayer, router: Router, *,
                    prices: Prices | None = None) -> RolloutService | None:
    """The rollout service over `inner` when `PEPTALK_ROLLOUT_ENABLED`; engines connect lazily, in `start`."""
    if not settings.rollout_enabled:
        return None
    url = settings.resolved_database_url()
    store = RolloutStore.from_url(url)
    shadow_policy = ShadowPolicy.from_settings(settings)  # the same user-id hashing as the shadow log
    writer = BatchWriter(SqlShadowStore(store.engine), batch_size=settings.shadow_batch_size,
                         flush_interval_s=settings.shadow_flush_interval_s)
    live = LiveRollout(store, refresh_interval_s=settings.rollout_refresh_interval_s,
                       max_age_s=settings.rollout_state_max_age_s)
    layer = RolloutLayer(inner, router, live=live, writer=writer, stored_user_id=shadow_policy.stored_user_id,
                         mirror_timeout_s=settings.shadow_timeout_s, max_in_flight=settings.shadow_max_in_flight,
                         max_pending=settings.shadow_queue_size, tally_interval_s=settings.shadow_flush_interval_s)
    controller = Controller(store, prices=prices) if settings.rollout_controller_enabled else None
    return RolloutService(layer=layer, store=store, controller=controller)
