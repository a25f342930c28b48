"""Reads a stage's gates against the evidence: what passes, what is not yet known, and what demands a rollback.

A gate passes on a bound, never on an observed rate: the candidate advances only when every bound shows it
within its limit, and a rollback needs a detector past its threshold (or a latency bound failing
`failure_limit` checks in a row). docs/rollout.md gives the formulas.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from peptalk.rollout.evidence import Evidence
from peptalk.rollout.plan import Gates, Stage

Severity = Literal["hard", "soft"]


@dataclass(frozen=True)
class GateResult:
    """One gate: its value, its bound, and whether it passed (None: not shown either way yet)."""

    name: str
    value: float | None
    bound: float
    passed: bool | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Breach:
    """A gate the candidate confidently fails: `hard` rolls back to 0%, `soft` to the last safe stage."""

    severity: Severity
    gate: str
    detail: str


def promotion_threshold(gates: Gates) -> float:
    """log(1/alpha): the log wealth at which the quality test rejects "preference share <= margin"."""
    return math.log(1 / gates.alpha)


def promotes(log_e: float | None, gates: Gates) -> bool:
    """The quality test: the wealth against "preference share <= margin" reached 1/alpha."""
    return log_e is not None and log_e >= promotion_threshold(gates)


def detector_fires(detector: float | None, gates: Gates) -> bool:
    """A Shiryaev-Roberts detector reached `rollback_arl` (mean steps between false alarms at the bound)."""
    return detector is not None and detector >= gates.rollback_arl


def within(name: str, bound: float | None, lower: float | None, upper: float | None, *,
           value: float | None = None) -> GateResult | None:
    """A rate or quantile that must stay at or under `bound`: passes when its upper bound does, fails when its
    lower bound is over it, and is not known in between."""
    if bound is None:
        return None
    passed = True if upper is not None and upper <= bound else False if lower is not None and lower > bound else None
    return GateResult(name, value, bound, passed)


def latency_failure(evidence: Evidence, gates: Gates) -> str | None:
    """Why the latency check fails on `evidence` (the recent window), or None; needs `min_calls` samples."""
    if evidence.latency_samples < gates.min_calls:
        return None
    lower = evidence.latency_p95_lower_bound_s
    if gates.p95_latency_max_s is not None and lower is not None and lower > gates.p95_latency_max_s:
        return (f"p95_latency_max_s: p95 {evidence.latency_p95_s:.3f} s, its {1 - gates.alpha:.0%} lower bound {lower:.3f} s > "
                f"{gates.p95_latency_max_s} s over {evidence.latency_samples} pairs")
    # The primary's p95 upper bound; below 59 pairs it has none, and its largest latency stands in for it.
    primary_upper = evidence.primary_latency_p95_upper_bound_s or evidence.primary_latency_max_s
    if gates.p95_latency_ratio_max is not None and lower is not None and primary_upper:
        if lower / primary_upper > gates.p95_latency_ratio_max:
            return (f"p95_latency_ratio_max: p95 lower bound {lower:.3f} s / primary p95 bound {primary_upper:.3f} s > "
                    f"{gates.p95_latency_ratio_max} over {evidence.latency_samples} pairs")
    return None


def _latency_gates(gates: Gates, evidence: Evidence) -> list[GateResult | None]:
    lower, upper = evidence.latency_p95_lower_bound_s, evidence.latency_p95_upper_bound_s
    primary_lower, primary_upper = evidence.primary_latency_p95_lower_bound_s, evidence.primary_latency_p95_upper_bound_s
    ratio_upper = upper / primary_lower if upper is not None and primary_lower else None
    ratio_lower = lower / primary_upper if lower is not None and primary_upper else None
    return [within("p95_latency_max_s", gates.p95_latency_max_s, lower, upper, value=evidence.latency_p95_s),
            within("p95_latency_ratio_max", gates.p95_latency_ratio_max, ratio_lower, ratio_upper,
                   value=evidence.latency_p95_ratio)]


def _human_gate(gates: Gates, evidence: Evidence) -> GateResult | None:
    """Judge vs humans: kappa's lower bound must reach the minimum, once `human_min_ratings` ratings exist."""
    if gates.human_kappa_min is None:
        return None
    lower, upper = evidence.human_kappa_lower_bound, evidence.human_kappa_upper_bound
    passed: bool | None = None
    if evidence.human_ratings >= gates.human_min_ratings and lower is not None and upper is not None:
        passed = True if lower >= gates.human_kappa_min else False if upper < gates.human_kappa_min else None
    return GateResult("human_kappa_min", evidence.human_kappa, gates.human_kappa_min, passed)


def advance_gates(stage: Stage, evidence: Evidence) -> list[GateResult]:
    """Every gate of `stage` (the judged-pairs minimum first) read on the stage's evidence."""
    gates = stage.gates
    results: list[GateResult | None] = [
        GateResult("min_judged_pairs", float(evidence.judged_pairs), float(stage.min_judged_pairs),
                   evidence.judged_pairs >= stage.min_judged_pairs)]
    if gates.margin is not None:
        shown = promotes(evidence.promotion_log_e, gates)
        worse = evidence.preference_upper_bound is not None and evidence.preference_upper_bound < gates.margin
        results.append(GateResult("preference_share", evidence.preference_lower_bound, gates.margin,
                                  True if shown else False if worse else None))
    if gates.consistency_min is not None:
        results.append(GateResult("consistency_min", evidence.consistency, gates.consistency_min,
                                  None if evidence.consistency is None else evidence.consistency >= gates.consistency_min))
    results += [
        within("unjudgeable_rate_max", gates.unjudgeable_rate_max, None, evidence.unjudgeable_rate_upper_bound,
               value=evidence.unjudgeable_rate),
        *_latency_gates(gates, evidence),
        within("error_rate_max", gates.error_rate_max, evidence.error_rate_lower_bound,
               evidence.error_rate_upper_bound, value=evidence.error_rate),
        within("timeout_rate_max", gates.timeout_rate_max, evidence.timeout_rate_lower_bound,
               evidence.timeout_rate_upper_bound, value=evidence.timeout_rate),
        within("empty_answer_rate_max", gates.empty_answer_rate_max, evidence.empty_answer_rate_lower_bound,
               evidence.empty_answer_rate_upper_bound, value=evidence.empty_answer_rate),
        _human_gate(gates, evidence),
    ]
    return [result for result in results if result is not None]


def breaches(gates: Gates, stage_evidence: Evidence, *, latency_failures: int = 0,
             latency_detail: str | None = None) -> list[Breach]:
    """Gates the candidate confidently fails: errors, timeouts or empty answers (hard), or judged quality or
    latency (soft).

    Failure rates and quality breach when their Shiryaev-Roberts detector over the stage reaches `rollback_arl`
    (failure rates only after `min_calls` candidate calls); latency when `latency_failures` consecutive checks
    of the recent window failed, `failure_limit` of them.
    """
    found: list[Breach] = []
    if stage_evidence.candidate_calls >= gates.min_calls:
        for name, detector, rate, bound in (
            ("error_rate_max", stage_evidence.error_detector, stage_evidence.error_rate, gates.error_rate_max),
            ("timeout_rate_max", stage_evidence.timeout_detector, stage_evidence.timeout_rate, gates.timeout_rate_max),
            ("empty_answer_rate_max", stage_evidence.empty_answer_detector, stage_evidence.empty_answer_rate,
             gates.empty_answer_rate_max),
        ):
            if detector_fires(detector, gates):
                found.append(Breach("hard", name, f"rate {rate or 0:.3f} over {stage_evidence.candidate_calls} calls; "
                                                  f"detector {detector:.3g} >= {gates.rollback_arl:g} (bound {bound})"))
    if latency_failures >= gates.failure_limit:
        found.append(Breach("soft", "latency", f"{latency_failures} consecutive failing latency checks "
                                               f"(failure_limit {gates.failure_limit}), the last: {latency_detail}"))
    if gates.margin is not None and detector_fires(stage_evidence.quality_detector, gates):
        found.append(Breach("soft", "preference_share",
                            f"preference share fell below the margin {gates.margin:.3f}: detector "
                            f"{stage_evidence.quality_detector:.3g} >= {gates.rollback_arl:g} "
                            f"(share {stage_evidence.preference_share:.3f} over {stage_evidence.judged_pairs} pairs)"))
    return found
