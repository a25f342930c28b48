"""Pep-talk payloads for load tests: fresh ones that miss any cache, and repeats of earlier ones that hit it."""

from __future__ import annotations

import copy
import random
from typing import Any


class PayloadSampler:
    """Draws payloads from the synthetic contexts; a share `repeat_share` repeats an earlier payload exactly.

    A fresh payload gets a user id never used before (`user-007.12`), so it misses a per-user cache however
    often the same context is drawn. `repeat_share` is therefore the expected cache hit rate once warm.
    """

    def __init__(self, contexts: list[dict[str, Any]], *, repeat_share: float, seed: int = 8,
                 hot_set: int = 20, prefill: bool = False) -> None:
        if not contexts:
            raise ValueError("no contexts to draw payloads from")
        if not 0.0 <= repeat_share <= 1.0:
            raise ValueError(f"repeat_share must be within [0, 1], got {repeat_share}")
        self.contexts = contexts
        self.repeat_share = repeat_share
        self.rng = random.Random(seed)
        self.hot_set = hot_set
        self.sent: list[dict[str, Any]] = []  # the payloads repeats are drawn from (the first `hot_set` fresh ones)
        self.fresh_count = 0
        self.repeat_count = 0
        if prefill:  # the hot set exists from the start (a benchmark sends it first, to warm a cache)
            for _ in range(hot_set):
                self.fresh()

    def fresh(self) -> dict[str, Any]:
        """A payload no one has sent before."""
        context = copy.deepcopy(self.contexts[self.fresh_count % len(self.contexts)])
        context["user_id"] = f"{context['user_id']}.{self.fresh_count}"
        self.fresh_count += 1
        if len(self.sent) < self.hot_set:
            self.sent.append(context)
        return context

    def next(self) -> tuple[dict[str, Any], bool]:
        """The next payload, and whether it repeats an earlier one."""
        if self.sent and self.rng.random() < self.repeat_share:
            self.repeat_count += 1
            return copy.deepcopy(self.rng.choice(self.sent)), True
        return self.fresh(), False
