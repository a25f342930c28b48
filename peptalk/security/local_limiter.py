"""The embedded default: token buckets in this process (each replica counts on its own)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from peptalk.security.buckets import Clock, Refusal, TokenBuckets, admit
from peptalk.security.limiter import WINDOW_S, Charge, LimitScope, RateLimiter


class InProcessLimiter(RateLimiter):
    """One `TokenBuckets` per scope; the check and the spend run without awaiting, so they cannot interleave."""

    def __init__(self, per_window: Mapping[LimitScope, int], *, window_s: float = WINDOW_S,
                 clock: Clock | None = None) -> None:
        super().__init__(per_window, window_s=window_s)
        self.buckets = {scope: TokenBuckets(limit, window_s=window_s, clock=clock or time.monotonic)
                        for scope, limit in self.per_window.items()}

    async def admit(self, charges: Sequence[Charge]) -> Refusal | None:
        return admit([(charge.scope, self.buckets[charge.scope], charge.identity, charge.cost)
                      for charge in charges if charge.scope in self.buckets])

    async def forget_user(self, user_id: str) -> int:
        users = self.buckets.get("user")
        return int(users.forget(user_id)) if users is not None else 0
