"""Routing policies and their registry: policy name -> class."""

from router.policies.base import RoutingPolicy, rendezvous_pick, unit_hash
from router.policies.fallback import FallbackPolicy
from router.policies.sticky import StickyPolicy
from router.policies.weighted import WeightedPolicy

POLICIES: dict[str, type[RoutingPolicy]] = {
    "fallback": FallbackPolicy,
    "weighted": WeightedPolicy,
    "sticky": StickyPolicy,
}

__all__ = ["POLICIES", "FallbackPolicy", "RoutingPolicy", "StickyPolicy", "WeightedPolicy", "rendezvous_pick",
           "unit_hash"]
