"""The rollout plan: a YAML file of stages (shadow -> 5% -> ... -> 100%), each with its evidence needs and gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from peptalk.rollout.errors import PlanError


class Gates(BaseModel):
    """What the evidence must show for a stage to pass; a bound left out (None) is not checked.

    docs/rollout.md gives each statistic's formula.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Quality: the candidate's preference share (win 1, tie 1/2, loss 0) must be shown above 0.5 - delta.
    delta: float | None = Field(default=0.05, ge=0, lt=0.5)  # None: no quality gate
    alpha: float = Field(default=0.05, gt=0, lt=0.5)  # false-promotion rate at the margin, however long a stage runs
    rollback_arl: float = Field(default=20_000, ge=20)  # mean judged pairs (calls) between false rollbacks at a bound
    consistency_min: float | None = Field(default=0.6, ge=0, le=1)  # share of pairs both orders agree on
    unjudgeable_rate_max: float | None = Field(default=0.1, ge=0, le=1)  # verdicts the judge's answer left unread
    p95_latency_ratio_max: float | None = Field(default=None, gt=0)  # candidate p95 / primary p95
    p95_latency_max_s: float | None = Field(default=None, gt=0)  # candidate p95, absolute
    failure_limit: int = Field(default=3, ge=1)  # consecutive failing latency checks before a latency rollback
    error_rate_max: float | None = Field(default=0.02, gt=0, lt=1)  # hard: a breach rolls back to 0%
    timeout_rate_max: float | None = Field(default=0.02, gt=0, lt=1)  # hard: a breach rolls back to 0%
    empty_answer_rate_max: float | None = Field(default=0.02, gt=0, lt=1)  # hard: answers with no text
    human_kappa_min: float | None = Field(default=None, ge=-1, le=1)  # judge vs humans, lower bound of kappa
    human_min_ratings: int = Field(default=30, ge=1)  # human ratings needed before the kappa gate is read
    min_calls: int = Field(default=20, ge=1)  # candidate calls (latency samples) before a failure or latency rollback
    stall_after_s: float = Field(default=1800.0, gt=0)  # no new verdict for this long: the evidence has stalled

    @property
    def margin(self) -> float | None:
        return None if self.delta is None else 0.5 - self.delta


class Stage(BaseModel):
    """One step of the rollout: the share of users the candidate serves, and when it may be left."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    share: float = Field(ge=0, le=1)
    min_judged_pairs: int = Field(default=30, ge=0)
    min_duration_s: float = Field(default=3600.0, ge=0)
    approval: bool = False  # True: passing the gates waits for `peptalk rollout approve`
    gates: Gates = Field(default_factory=Gates)


class JudgePlan(BaseModel):
    """Who judges the pairs, how many, and within what budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = "openai:gpt-4"
    sample_rate: float = Field(default=1.0, ge=0, le=1)
    max_calls_per_hour: int = Field(default=600, ge=0)
    max_usd_per_day: float = Field(default=20.0, ge=0)

    @field_validator("model")
    @classmethod
    def _model_ref(cls, value: str) -> str:
        return model_ref(value)


class RolloutPlan(BaseModel):
    """The whole plan; stage shares rise strictly, so each stage only adds users."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    candidate: str
    primary: str
    salt: str | None = None  # the assignment hash's salt; default: the candidate's name
    evaluation_interval_s: float = Field(default=30.0, gt=0)
    window_s: float = Field(default=900.0, gt=0)  # recent evidence that a rollback looks at
    mirror_rate: float = Field(default=0.1, ge=0, le=1)  # requests also sent to the other model, for pairs
    judge: JudgePlan = Field(default_factory=JudgePlan)
    gates: Gates = Field(default_factory=Gates)  # defaults for every stage's gates
    stages: list[Stage] = Field(min_length=2)

    @model_validator(mode="before")
    @classmethod
    def _stage_gates_inherit(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            return data
        defaults = data.get("gates") or {}
        if not isinstance(defaults, dict):
            return data
        stages = []
        for stage in data["stages"]:
            if isinstance(stage, dict) and isinstance(stage.get("gates", {}), dict):
                stage = {**stage, "gates": {**defaults, **(stage.get("gates") or {})}}
            stages.append(stage)
        return {**data, "stages": stages}

    @field_validator("candidate", "primary")
    @classmethod
    def _refs(cls, value: str) -> str:
        return model_ref(value)

    @field_validator("stages")
    @classmethod
    def _stages_rise(cls, stages: list[Stage]) -> list[Stage]:
        names = [stage.name for stage in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        shares = [stage.share for stage in stages]
        if any(later <= earlier for earlier, later in zip(shares, shares[1:])):
            raise ValueError(f"stage shares must rise strictly (each stage only adds users): {shares}")
        return stages

    @model_validator(mode="after")
    def _distinct_models(self) -> RolloutPlan:
        if self.candidate == self.primary:
            raise ValueError("primary: the candidate and the primary must differ")
        return self

    @property
    def assignment_salt(self) -> str:
        return self.salt or f"rollout:{self.candidate}"

    def stage_index(self, name: str) -> int:
        for index, stage in enumerate(self.stages):
            if stage.name == name:
                return index
        raise PlanError(f"no stage named {name!r}; stages: {[stage.name for stage in self.stages]}", key="stages")


def plan_warnings(plan: RolloutPlan) -> list[str]:
    """What is legal in a plan but weakens its evidence; `peptalk rollout start` prints these."""
    warnings = []
    if plan.judge.model == plan.primary:
        warnings.append(f"judge.model is the primary ({plan.primary}): a model tends to prefer its own answers "
                        "(self-preference), which biases every verdict against the candidate; prefer another judge")
    if plan.judge.model == plan.candidate:
        warnings.append(f"judge.model is the candidate ({plan.candidate}): self-preference biases the verdicts "
                        "towards it, and the gate may promote a worse candidate")
    return warnings


def model_ref(value: str) -> str:
    """`backend:model`, stripped; ValueError otherwise."""
    backend, sep, model = value.strip().partition(":")
    if not sep or not backend or not model:
        raise ValueError(f"{value!r} is not `backend:model`")
    return value.strip()


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(plan)"


def parse_plan(data: Any) -> RolloutPlan:
    """A checked plan from parsed YAML/JSON; `PlanError` naming the first bad key."""
    try:
        return RolloutPlan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        key = _key(tuple(first["loc"]))
        if not first["loc"]:  # a whole-plan rule: its message starts with the key it is about
            key = str(first["msg"]).removeprefix("Value error, ").partition(":")[0]
        problems = "; ".join(f"{_key(tuple(error['loc']))}: {error['msg']}" for error in exc.errors(include_url=False))
        raise PlanError(f"bad rollout plan: {problems}", key=key) from None


def load_plan(path: Path) -> RolloutPlan:
    """The plan in the YAML file at `path`; `PlanError` when it cannot be read or is invalid."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read the plan {path}: {exc.strerror or exc}", key="plan") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(f"{path} is not YAML: {exc}", key="plan") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path} must hold a mapping with `candidate`, `primary` and `stages`", key="plan")
    return parse_plan(data)
