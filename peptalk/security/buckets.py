"""Token buckets keyed by identity (API key, user): N requests per minute, bursts of up to N, in this process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One bucket per identity; it holds at most `per_minute` tokens and refills `per_minute` per minute."""

    def __init__(self, per_minute: int, *, clock: Clock = time.monotonic, max_identities: int = 100_000,
                 window_s: float = 60.0) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate_per_s = per_minute / window_s
        self.clock = clock
        self.max_identities = max_identities
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, identity: str, now: float) -> _Bucket:
        bucket = self._buckets.get(identity)
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[identity] = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate_per_s)
            bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: dropping it bounds memory under many identities.
        if len(self._buckets) < self.max_identities:
            return
        full_after_s = self.capacity / self.rate_per_s
        self._buckets = {identity: bucket for identity, bucket in self._buckets.items()
                         if now - bucket.updated < full_after_s}
        while len(self._buckets) >= self.max_identities:
            self._buckets.pop(next(iter(self._buckets)))

    def wait_s(self, identity: str, cost: int = 1) -> float:
        """Seconds until `cost` tokens are available (0: now; inf: never, the cost exceeds the bucket)."""
        if cost > self.capacity:
            return math.inf
        bucket = self._bucket(identity, self.clock())
        missing = cost - bucket.tokens
        return 0.0 if missing <= 0 else missing / self.rate_per_s

    def forget(self, identity: str) -> bool:
        """Drops the identity's bucket (it starts full again); whether there was one."""
        return self._buckets.pop(identity, None) is not None

    def take(self, identity: str, cost: int = 1) -> None:
        """Spends `cost` tokens (call after `wait_s` said 0)."""
        bucket = self._bucket(identity, self.clock())
        bucket.tokens -= cost


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: which limit, for whom, and when to retry."""

    scope: str  # "key" or "user"
    identity: str
    per_minute: int
    retry_after_s: float


def admit(charges: Sequence[tuple[str, TokenBuckets, str, int]]) -> Refusal | None:
    """Spends every charge `(scope, buckets, identity, cost)` if all fit, else spends nothing and says why.

    Runs without awaiting, so on one event loop the check and the spend cannot interleave with another request.
    """
    worst: Refusal | None = None
    for scope, buckets, identity, cost in charges:
        wait = buckets.wait_s(identity, cost)
        if wait > 0 and (worst is None or wait > worst.retry_after_s):
            worst = Refusal(scope, identity, int(buckets.capacity), wait)
    if worst is None:
        for _, buckets, identity, cost in charges:
            buckets.take(identity, cost)
    return worst

