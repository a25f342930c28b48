"""The rollout's vocabulary between layers: the fact it adds to each answer it routes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from router.extensions import register_fact

__all__ = ["ROLLOUT_ARMS", "RolloutArm", "RolloutFact"]

RolloutArm = Literal["candidate", "primary", "fallback"]  # fallback: the candidate failed first, the primary answered
ROLLOUT_ARMS: tuple[RolloutArm, ...] = get_args(RolloutArm)


@register_fact
@dataclass(frozen=True)
class RolloutFact:
    """The rollout stage that routed an answer, the rollout's version then, and the arm that answered.

    An `AnswerFacts` extension; clients see it as `"rollout": {"stage": ..., "version": ..., "arm": ...}`.
    """

    WIRE_KEYS: ClassVar[tuple[str, ...]] = ("rollout",)

    stage: str
    version: int
    arm: RolloutArm

    def wire(self) -> dict[str, Any]:
        return {"rollout": {"stage": self.stage, "version": self.version, "arm": self.arm}}

    @classmethod
    def from_wire(cls, facts: Mapping[str, Any]) -> RolloutFact | None:
        """The rollout fact in a wire form; None when there is none (or not of this shape)."""
        sent = facts.get("rollout")
        if not isinstance(sent, dict) or set(sent) != {"stage", "version", "arm"} or sent["arm"] not in ROLLOUT_ARMS:
            return None
        return cls(stage=sent["stage"], version=sent["version"], arm=sent["arm"])
