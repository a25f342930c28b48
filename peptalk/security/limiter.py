"""The rate limiter's interface: per-scope limits (API key, user), charged all at once, and how one is built."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from peptalk.security.buckets import Refusal

if TYPE_CHECKING:
    from peptalk.settings import Settings

LimitScope = Literal["key", "user"]
WINDOW_S = 60  # the limits are "N requests per minute"


@dataclass(frozen=True)
class Charge:
    """What one request costs one identity under one scope's limit."""

    scope: LimitScope
    identity: str
    cost: int


class RateLimiter(abc.ABC):
    """Admits or refuses a request's charges: all of them are spent, or none is and a `Refusal` says why."""

    def __init__(self, per_window: Mapping[LimitScope, int], *, window_s: float = WINDOW_S) -> None:
        self.per_window = {scope: limit for scope, limit in per_window.items() if limit > 0}
        self.window_s = window_s

    def limits(self, scope: LimitScope) -> bool:
        """Whether `scope` has a limit at all (0 switches it off)."""
        return scope in self.per_window

    @abc.abstractmethod
    async def admit(self, charges: Sequence[Charge]) -> Refusal | None:
        """Spends every charge if all fit; else `Refusal` with the longest wait (infinite: never fits)."""

    name = "rate_limit_counters"  # as erasure reports name it

    @abc.abstractmethod
    async def forget_user(self, user_id: str) -> int:
        """Erasure (`Forgettable`): drops the counter kept under this user id; returns how many were dropped."""

    async def aclose(self) -> None:
        """Releases connections."""


def build_limiter(settings: Settings) -> RateLimiter | None:
    """The limiter the settings describe: in-process token buckets (`memory://`) or shared ones (Redis); None if off."""
    per_minute: dict[LimitScope, int] = {"key": settings.rate_limit_per_key_per_minute,
                                         "user": settings.rate_limit_per_user_per_minute}
    if not any(per_minute.values()):
        return None
    url = settings.rate_limit_storage_url
    if url == "memory://":
        from peptalk.security.local_limiter import InProcessLimiter

        return InProcessLimiter(per_minute)
    from peptalk.security.shared_limiter import SharedLimiter

    return SharedLimiter(url, per_minute, key_prefix=settings.rate_limit_key_prefix)
