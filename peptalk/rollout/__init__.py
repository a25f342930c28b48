"""Rollout: a gated, reversible traffic shift from the primary to a candidate, driven by shadow evidence.

The package's light, dependency-free surface; the serving parts (layer, controller, evidence, routes) are
imported from their modules, so `peptalk.settings` can inherit `RolloutSettings` without an import cycle.
"""

from peptalk.rollout.errors import ConflictError, PlanError, RolloutError, RolloutStateError, RolloutStoreError
from peptalk.rollout.plan import Gates, JudgePlan, RolloutPlan, Stage, load_plan, parse_plan
from peptalk.rollout.settings import RolloutSettings

__all__ = [
    "ConflictError",
    "Gates",
    "JudgePlan",
    "PlanError",
    "RolloutError",
    "RolloutPlan",
    "RolloutSettings",
    "RolloutStateError",
    "RolloutStoreError",
    "Stage",
    "load_plan",
    "parse_plan",
]
