"""Rate limits shared by every replica: a moving window per identity in Redis, through the `limits` library."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence

from limits import RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from peptalk.security.buckets import Refusal
from peptalk.security.limiter import WINDOW_S, Charge, LimitScope, RateLimiter

log = logging.getLogger("peptalk.security")


def async_storage_url(url: str) -> str:
    """`redis://...` as the asyncio variant `async+redis://...` (the app is async); other URLs unchanged."""
    return url if url.startswith("async+") else f"async+{url}"


class SharedLimiter(RateLimiter):
    """At most N requests per identity in any `window_s` seconds, counted in shared storage (Redis).

    Each charge is one atomic `hit` in Redis. The charges of one request are first tested, then hit; when
    another replica spends the last slot in between, the request is refused and the charges already hit stay
    spent (it errs on the side of the limit). When the storage cannot be reached, requests are let through and
    the failure is logged: an outage of Redis must not take the service down.
    """

    def __init__(self, storage_url: str, per_window: Mapping[LimitScope, int], *, window_s: float = WINDOW_S,
                 key_prefix: str = "peptalk") -> None:
        super().__init__(per_window, window_s=window_s)
        options: dict[str, str] = {"key_prefix": key_prefix}
        if "redis" in storage_url.split("://", 1)[0]:
            options["implementation"] = "redispy"
        self.storage = storage_from_string(async_storage_url(storage_url), **options)
        self.strategy = MovingWindowRateLimiter(self.storage)  # type: ignore[arg-type]
        self.items = {scope: RateLimitItemPerSecond(limit, int(window_s)) for scope, limit in self.per_window.items()}

    async def _wait_s(self, charge: Charge) -> float:
        item = self.items[charge.scope]
        if charge.cost > item.amount:
            return math.inf
        if await self.strategy.test(item, charge.scope, charge.identity, cost=charge.cost):
            return 0.0
        stats = await self.strategy.get_window_stats(item, charge.scope, charge.identity)
        return max(stats.reset_time - time.time(), 0.001)

    def _refusal(self, charge: Charge, wait_s: float) -> Refusal:
        return Refusal(charge.scope, charge.identity, self.per_window[charge.scope], wait_s)

    async def admit(self, charges: Sequence[Charge]) -> Refusal | None:
        limited = [charge for charge in charges if charge.scope in self.items]
        try:
            worst: Refusal | None = None
            for charge in limited:
                wait = await self._wait_s(charge)
                if wait > 0 and (worst is None or wait > worst.retry_after_s):
                    worst = self._refusal(charge, wait)
            if worst is not None:
                return worst
            for charge in limited:
                if not await self.strategy.hit(self.items[charge.scope], charge.scope, charge.identity,
                                               cost=charge.cost):
                    return self._refusal(charge, max(await self._wait_s(charge), 1.0))
        except Exception:  # noqa: BLE001 - any storage failure: serve rather than refuse everyone
            log.exception("rate-limit storage unreachable; request admitted unchecked")
        return None


    async def forget_user(self, user_id: str) -> int:
        item = self.items.get("user")
        if item is None:
            return 0
        stats = await self.strategy.get_window_stats(item, "user", user_id)
        await self.strategy.clear(item, "user", user_id)
        return int(stats.remaining < item.amount)
