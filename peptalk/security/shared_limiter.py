"""Rate limits shared by every replica: a sliding-window counter per identity in Redis, via the `limits` library."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from peptalk.security.buckets import Refusal
from peptalk.security.limiter import WINDOW_S, Charge, LimitScope, RateLimiter

log = logging.getLogger("peptalk.security")


def async_storage_url(url: str) -> str:
    """`redis://...` as the asyncio variant `async+redis://...` (the app is async); other URLs unchanged."""
    return url if url.startswith("async+") else f"async+{url}"


def sliding_wait_s(previous: int, previous_ttl_s: float, current: int, current_ttl_s: float, *, limit: int,
                   cost: int, window_s: float) -> float:
    """Seconds until `cost` more fits under `limit` in `limits`' sliding-window counter, from its storage view.

    A hit fits when `floor(previous * previous_ttl / window) + current + cost <= limit`: the previous window's
    count fades out while the current window runs, then the current one fades out the same way in the next.
    `limits` reports the current window's TTL plus one window (its key outlives it as the next "previous").
    """
    room = limit - cost
    current_ends = min(max(current_ttl_s - window_s, 0.0), window_s)
    if current <= room:
        if previous == 0 or math.floor(previous * previous_ttl_s / window_s) + current <= room:
            return 0.0
        faded = previous_ttl_s - (room - current + 1) * window_s / previous  # the floor drops below the room
        if faded <= current_ends:
            return max(faded, 0.0)
    if current == 0:
        return current_ends
    return current_ends + max(window_s - (room + 1) * window_s / current, 0.0)


class SharedLimiter(RateLimiter):
    """About N requests per identity in any `window_s` seconds, counted in shared storage (Redis).

    The `limits` library's sliding-window counter: two counters per identity, O(1) per request in Redis (the
    moving window keeps one entry per request, and its cost grows with the limit). Each charge is one atomic
    `hit`; when one is refused, the charges already spent are given back, so a refused request spends nothing
    whichever of its charges was refused (all or none). When the storage cannot be reached,
    requests are let through and the failure is logged: an outage of Redis must not take the service down.
    """

    def __init__(self, storage_url: str, per_window: Mapping[LimitScope, int], *, window_s: float = WINDOW_S,
                 key_prefix: str = "peptalk") -> None:
        super().__init__(per_window, window_s=window_s)
        options: dict[str, str] = {"key_prefix": key_prefix}
        if "redis" in storage_url.split("://", 1)[0]:
            options["implementation"] = "redispy"
        self.storage = storage_from_string(async_storage_url(storage_url), **options)
        self.strategy = SlidingWindowCounterRateLimiter(self.storage)  # type: ignore[arg-type]
        self.items = {scope: RateLimitItemPerSecond(limit, int(window_s)) for scope, limit in self.per_window.items()}

    async def _refusal(self, charge: Charge) -> Refusal:
        item = self.items[charge.scope]
        window = await self.storage.get_sliding_window(  # type: ignore[union-attr]
            item.key_for(charge.scope, charge.identity), item.get_expiry())
        wait = sliding_wait_s(*window, limit=item.amount, cost=charge.cost, window_s=item.get_expiry())
        return Refusal(charge.scope, charge.identity, item.amount, max(wait, 0.001))

    async def admit(self, charges: Sequence[Charge]) -> Refusal | None:
        limited = [charge for charge in charges if charge.scope in self.items]
        for charge in limited:
            if charge.cost > self.items[charge.scope].amount:
                return Refusal(charge.scope, charge.identity, self.items[charge.scope].amount, math.inf)
        spent: list[Charge] = []
        try:
            for charge in limited:
                if not await self.strategy.hit(self.items[charge.scope], charge.scope, charge.identity,
                                               cost=charge.cost):
                    refusal = await self._refusal(charge)
                    await self._give_back(spent)  # all or none: the charges spent before this one come back
                    return refusal
                spent.append(charge)
        except Exception:  # noqa: BLE001 - any storage failure: serve rather than refuse everyone
            log.exception("rate-limit storage unreachable; request admitted unchecked")
        return None

    async def _give_back(self, spent: Sequence[Charge]) -> None:
        """Takes `spent` charges back out of their current windows (`limits` has no refund of its own).

        At a window's boundary a charge may come back to the next window instead: the identity may then get
        up to its cost more in that window, never less.
        """
        storage: Any = self.storage  # an async storage: `storage_from_string` got an `async+` URL
        for charge in spent:
            item = self.items[charge.scope]
            key = item.key_for(charge.scope, charge.identity)
            current_key = getattr(storage, "_current_window_key", None)
            if current_key is not None:  # Redis: two fixed keys per identity, rotated by limits' own script
                key = current_key(key)
                left = await storage.incr(key, 2 * item.get_expiry(), -charge.cost)
                if left < 0:  # the window rotated in between: never leave a negative count behind
                    await storage.incr(key, 2 * item.get_expiry(), -left)
            else:  # memory: one key per window
                _, key = storage.sliding_window_keys(key, item.get_expiry(), time.time())
                await storage.decr(key, charge.cost)

    async def aclose(self) -> None:
        """Closes the connections to Redis (a later call connects again)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()

    async def forget_user(self, user_id: str) -> int:
        item = self.items.get("user")
        if item is None:
            return 0
        previous, _, current, _ = await self.storage.get_sliding_window(  # type: ignore[union-attr]
            item.key_for("user", user_id), item.get_expiry())
        await self.strategy.clear(item, "user", user_id)
        return int(previous + current > 0)
