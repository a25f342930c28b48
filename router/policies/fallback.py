"""The ordered fallback chain: try the first model, then the next, and so on."""

from __future__ import annotations

from router.base import ModelRef
from router.call import Call
from router.policies.base import RoutingPolicy


class FallbackPolicy(RoutingPolicy):
    """Every call tries the chain in order (e.g. ollama, then openai, then embedded)."""

    name = "fallback"

    def first_choice(self, call: Call) -> ModelRef | None:
        return None
