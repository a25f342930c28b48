"""Reads a stage's gates against the evidence: what passes, what is not yet known, and what demands a rollback."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from peptalk.rollout.evidence import Evidence
from peptalk.rollout.plan import Gates, Stage

Severity = Literal["hard", "soft"]


@dataclass(frozen=True)
class GateResult:
    """One gate: its measured value, its bound, and whether it passed (None: not enough evidence yet)."""

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


def _at_least(name: str, value: float | None, bound: float | None) -> GateResult | None:
    if bound is None:
        return None
    return GateResult(name, value, bound, None if value is None else value >= bound)


def _at_most(name: str, value: float | None, bound: float | None) -> GateResult | None:
    if bound is None:
        return None
    return GateResult(name, value, bound, None if value is None else value <= bound)


def advance_gates(stage: Stage, evidence: Evidence) -> list[GateResult]:
    """Every gate of `stage` (the judged-pairs minimum first) read on the stage's evidence."""
    gates = stage.gates
    enough_calls = evidence.latency_samples >= gates.min_calls
    results = [
        GateResult("min_judged_pairs", float(evidence.judged_pairs), float(stage.min_judged_pairs),
                   evidence.judged_pairs >= stage.min_judged_pairs),
        _at_least("win_or_tie_lower_bound", evidence.win_or_tie_lower_bound, gates.win_or_tie_lower_bound),
        _at_least("consistency_min", evidence.consistency, gates.consistency_min),
        _at_most("p95_latency_ratio_max", evidence.latency_p95_ratio if enough_calls else None,
                 gates.p95_latency_ratio_max),
        _at_most("p95_latency_max_s", evidence.latency_p95_s if enough_calls else None, gates.p95_latency_max_s),
        _at_most("error_rate_max", evidence.error_rate, gates.error_rate_max),
        _at_most("timeout_rate_max", evidence.timeout_rate, gates.timeout_rate_max),
        _at_least("human_agreement_min", evidence.human_agreement, gates.human_agreement_min),
    ]
    return [result for result in results if result is not None]


def breaches(gates: Gates, recent: Evidence, stage_evidence: Evidence) -> list[Breach]:
    """Gates the candidate confidently fails: errors or timeouts (hard), or latency or judged quality (soft).

    Failure rates breach when their one-sided 95% lower bound is above the bound, over at least `min_calls`
    calls; latency when the recent p95 is over its bound; quality when the win-or-tie upper bound is below
    the margin (the candidate is confidently worse).
    """
    found: list[Breach] = []
    if recent.candidate_calls >= gates.min_calls:
        for name, lower, bound, rate in (
            ("error_rate_max", recent.error_rate_lower_bound, gates.error_rate_max, recent.error_rate),
            ("timeout_rate_max", recent.timeout_rate_lower_bound, gates.timeout_rate_max, recent.timeout_rate),
        ):
            if bound is not None and lower is not None and lower > bound:
                found.append(Breach("hard", name, f"rate {rate:.3f} over {recent.candidate_calls} calls "
                                                  f"(95% lower bound {lower:.3f}) > {bound}"))
    if recent.latency_samples >= gates.min_calls:
        if gates.p95_latency_ratio_max is not None and recent.latency_p95_ratio is not None \
                and recent.latency_p95_ratio > gates.p95_latency_ratio_max:
            found.append(Breach("soft", "p95_latency_ratio_max",
                                f"p95 ratio {recent.latency_p95_ratio:.2f} > {gates.p95_latency_ratio_max}"))
        if gates.p95_latency_max_s is not None and recent.latency_p95_s is not None \
                and recent.latency_p95_s > gates.p95_latency_max_s:
            found.append(Breach("soft", "p95_latency_max_s",
                                f"p95 {recent.latency_p95_s:.3f} s > {gates.p95_latency_max_s} s"))
    upper = stage_evidence.win_or_tie_upper_bound
    if gates.win_or_tie_lower_bound is not None and upper is not None and upper < gates.win_or_tie_lower_bound:
        found.append(Breach("soft", "win_or_tie_lower_bound",
                            f"win-or-tie upper bound {upper:.3f} < margin {gates.win_or_tie_lower_bound}"))
    return found
