"""The rollout's records: a rollout with its stage and status, its transitions, and the live routing state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from peptalk.rollout.plan import RolloutPlan, Stage

# active: the controller advances and rolls back; awaiting_approval: gates passed, `approve` advances;
# paused: no advance (rollbacks still happen); rolled_back: held after an automatic rollback until `resume`;
# superseded: replaced by a newer rollout.
Status = Literal["active", "awaiting_approval", "paused", "rolled_back", "superseded"]
TransitionKind = Literal["start", "advance", "gates_passed", "approve", "rollback", "pause", "resume", "supersede"]
Actor = Literal["controller", "operator"]


@dataclass(frozen=True)
class Rollout:
    """One rollout of one candidate, as stored."""

    id: int
    plan: RolloutPlan
    stage_index: int
    status: Status
    version: int  # bumped by every change; the compare-and-set key
    stage_entered_at: dt.datetime
    created_at: dt.datetime

    @property
    def stage(self) -> Stage:
        return self.plan.stages[self.stage_index]

    @property
    def share(self) -> float:
        return self.stage.share


@dataclass(frozen=True)
class Transition:
    """One stored change of a rollout, with the evidence that caused it."""

    id: int
    rollout_id: int
    at: dt.datetime
    kind: TransitionKind
    from_stage: str | None
    to_stage: str
    status: Status
    actor: Actor
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveState:
    """What routing needs from the current rollout; immutable, so a lookup is one attribute read."""

    rollout_id: int
    version: int
    candidate: str
    primary: str
    share: float
    mirror_rate: float
    salt: str
    stage: str
    status: Status


def live_state_of(rollout: Rollout) -> LiveState | None:
    """The routing state of `rollout`; None for a superseded one."""
    if rollout.status == "superseded":
        return None
    return LiveState(rollout_id=rollout.id, version=rollout.version, candidate=rollout.plan.candidate,
                     primary=rollout.plan.primary, share=rollout.share, mirror_rate=rollout.plan.mirror_rate,
                     salt=rollout.plan.assignment_salt, stage=rollout.stage.name, status=rollout.status)


Outcome = Literal["win", "tie", "loss"]


@dataclass(frozen=True)
class Verdict:
    """The judge's verdict on one pair, for the candidate; `outcome` None when an order could not be read."""

    pair_id: str
    candidate: str
    primary: str
    pair_created_at: dt.datetime
    judged_at: dt.datetime
    outcome: Outcome | None
    consistent: bool | None
    problem: str | None
    raw_candidate_first: str | None
    raw_primary_first: str | None
    judge_model: str
    prompt_version: str
    calls: int
    cost_usd: float
    human_agree: int | None = None  # human pairwise ratings of the pair that agree with `outcome`
    human_total: int | None = None
    candidate_first_outcome: Outcome | None = None  # each order's own reading (position bias)
    primary_first_outcome: Outcome | None = None
    human_labels: tuple[Outcome, ...] = ()  # the human raters' outcomes for the pair (Cohen's kappa)


@dataclass(frozen=True)
class CallTally:
    """How the candidate's calls ended over one flush of one process: every call counts, sampled or not."""

    candidate: str
    at: dt.datetime
    calls: int
    errors: int  # timeouts included
    timeouts: int
    empty_answers: int
