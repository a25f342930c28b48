"""The controller: on a schedule, reads the evidence, advances the stage when the gates pass and rolls back at once
when one fails; operators approve, pause, resume and roll back through the same compare-and-set transitions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peptalk.observability.prices import Prices
from peptalk.rollout.base import Rollout, Status, Transition, TransitionKind
from peptalk.rollout.errors import ConflictError, RolloutStateError
from peptalk.rollout.evidence import Evidence, compute_evidence
from peptalk.rollout.gates import Breach, GateResult, advance_gates, breaches, latency_failure
from peptalk.rollout.metrics import EVIDENCE, EVIDENCE_AGE, EVIDENCE_STALLED, TRANSITIONS
from peptalk.rollout.plan import plan_warnings
from peptalk.rollout.store import RolloutStore, now_utc

log = logging.getLogger("peptalk.rollout")
GAUGED = ("pairs", "judged_pairs", "unjudgeable_pairs", "preference_share", "preference_lower_bound",
          "preference_upper_bound", "promotion_log_e", "quality_detector", "consistency", "unjudgeable_rate",
          "first_position_share", "latency_p50_ratio", "latency_p95_ratio", "ttft_p50_ratio", "candidate_calls",
          "error_rate", "error_rate_upper_bound", "error_detector", "timeout_rate", "timeout_detector",
          "empty_answer_rate", "empty_answer_detector", "human_kappa", "cost_per_request_usd")
EVIDENCE_SHOWN = (  # what `status` and the page show, in this order
    "pairs", "judged_pairs", "wins", "ties", "losses", "empty_answer_losses", "unjudgeable_pairs", "preference_share",
    "preference_lower_bound", "preference_upper_bound", "margin", "promotion_log_e", "quality_detector", "consistency",
    "first_position_share", "candidate_calls", "error_rate", "error_rate_upper_bound", "error_detector",
    "timeout_rate", "empty_answer_rate", "latency_samples", "latency_p95_s", "latency_p95_lower_bound_s",
    "latency_p95_upper_bound_s", "latency_p95_ratio", "ttft_p50_ratio", "human_ratings", "human_kappa",
    "human_kappa_lower_bound", "cost_per_request_usd", "primary_cost_per_request_usd")


@dataclass
class Report:
    """One evaluation of a rollout: the stage's evidence, the recent window's, each gate, and what to do."""

    rollout: Rollout
    at: dt.datetime
    stage_evidence: Evidence
    recent_evidence: Evidence
    gates: list[GateResult]
    breaches: list[Breach]
    stage_age_s: float
    evidence_age_s: float = 0.0  # since the stage's newest verdict (or the stage's start, without one)
    stalled: bool = False  # no verdict for longer than the stage's `stall_after_s`
    latency_streak: int = 0  # consecutive failing latency checks, this one included
    action: TransitionKind | None = None
    to_stage: int | None = None
    status: Status | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        plan = self.rollout.plan
        return {
            "rollout_id": self.rollout.id, "candidate": plan.candidate, "primary": plan.primary,
            "stage": self.rollout.stage.name, "stage_index": self.rollout.stage_index, "share": self.rollout.share,
            "status": self.rollout.status, "version": self.rollout.version, "at": self.at.isoformat(),
            "stage_entered_at": self.rollout.stage_entered_at.isoformat(), "stage_age_s": round(self.stage_age_s, 3),
            "min_duration_s": self.rollout.stage.min_duration_s, "approval": self.rollout.stage.approval,
            "stages": [{"name": stage.name, "share": stage.share} for stage in plan.stages],
            "evidence": self.stage_evidence.to_dict(), "recent": self.recent_evidence.to_dict(),
            "gates": [gate.to_dict() for gate in self.gates],
            "breaches": [{"severity": b.severity, "gate": b.gate, "detail": b.detail} for b in self.breaches],
            "evidence_age_s": round(self.evidence_age_s, 3), "stalled": self.stalled,
            "stall_after_s": self.rollout.stage.gates.stall_after_s, "latency_streak": self.latency_streak,
            "next": {"action": self.action, "to_stage": None if self.to_stage is None else plan.stages[self.to_stage].name,
                     "status": self.status, "reason": self.reason},
            "notes": self.notes,
        }


class Controller:
    """Evaluates the current rollout and makes its transitions; safe to run in many processes at once."""

    def __init__(self, store: RolloutStore, *, prices: Prices | None = None,
                 clock: Callable[[], dt.datetime] = now_utc) -> None:
        self.store = store
        self.prices = prices
        self.clock = clock
        # Consecutive failing latency checks per (rollout, stage start), counted by this process's ticks.
        self._latency_streaks: dict[tuple[int, dt.datetime], int] = {}

    def evaluate(self, rollout: Rollout, *, now: dt.datetime | None = None) -> Report:
        """The evidence and gates of `rollout` now, and the transition they call for (if any)."""
        now = now or self.clock()
        plan, stage = rollout.plan, rollout.stage
        entered = rollout.stage_entered_at
        stage_evidence = compute_evidence(self.store, candidate=plan.candidate, primary=plan.primary, since=entered,
                                          until=now, gates=stage.gates, prices=self.prices)
        recent_since = max(entered, now - dt.timedelta(seconds=plan.window_s))
        recent = compute_evidence(self.store, candidate=plan.candidate, primary=plan.primary, since=recent_since,
                                  until=now, gates=stage.gates, prices=self.prices)
        failing = latency_failure(recent, stage.gates)
        streak = self._latency_streaks.get((rollout.id, entered), 0) + 1 if failing else 0
        evidence_age = (now - (stage_evidence.last_verdict_at or entered)).total_seconds()
        report = Report(rollout=rollout, at=now, stage_evidence=stage_evidence, recent_evidence=recent,
                        gates=advance_gates(stage, stage_evidence),
                        breaches=breaches(stage.gates, stage_evidence, latency_failures=streak,
                                          latency_detail=failing),
                        stage_age_s=(now - entered).total_seconds(), evidence_age_s=evidence_age,
                        stalled=evidence_age > stage.gates.stall_after_s, latency_streak=streak)
        if failing:
            report.notes.append(f"latency check failing ({streak} of {stage.gates.failure_limit} in a row): {failing}")
        if report.stalled:
            report.notes.append(f"evidence stalled: no verdict for {evidence_age:.0f} s "
                                f"(stall_after_s {stage.gates.stall_after_s:g}); is the judge running?")
        report.notes += [f"warning: {warning}" for warning in plan_warnings(plan)]
        self._decide(report)
        return report

    @staticmethod
    def _decide(report: Report) -> None:
        rollout = report.rollout
        if report.breaches:
            hard = [breach for breach in report.breaches if breach.severity == "hard"]
            target = 0 if hard else max(rollout.stage_index - 1, 0)
            if target < rollout.stage_index:
                chosen = hard or report.breaches
                report.action, report.to_stage, report.status = "rollback", target, "rolled_back"
                report.reason = "; ".join(f"{b.gate}: {b.detail}" for b in chosen)
                return
            report.notes.append("a gate fails, but the candidate serves nobody: nothing to roll back")
        if rollout.status != "active":
            report.notes.append(f"status {rollout.status}: no automatic advance")
            return
        if rollout.stage_index == len(rollout.plan.stages) - 1:
            report.notes.append("at the last stage: monitoring for rollbacks")
            return
        if report.stage_age_s < rollout.stage.min_duration_s:
            report.notes.append(f"stage younger than its min_duration_s ({rollout.stage.min_duration_s:g} s)")
            return
        pending = [gate.name for gate in report.gates if gate.passed is not True]
        if pending:
            report.notes.append("gates not passed yet: " + ", ".join(pending))
            return
        if rollout.stage.approval:
            report.action, report.to_stage, report.status = "gates_passed", rollout.stage_index, "awaiting_approval"
            report.reason = "every gate passed; waiting for `peptalk rollout approve`"
        else:
            report.action, report.to_stage, report.status = "advance", rollout.stage_index + 1, "active"
            report.reason = "every gate passed"

    def tick(self, *, now: dt.datetime | None = None) -> Transition | None:
        """Evaluates the current rollout once and makes the transition it calls for; None when nothing changed."""
        rollout = self.store.current()
        if rollout is None:
            return None
        report = self.evaluate(rollout, now=now)
        self._latency_streaks = {(rollout.id, rollout.stage_entered_at): report.latency_streak}
        self._gauge(report)
        if report.action is None or report.to_stage is None or report.status is None:
            return None
        try:
            self.store.transition(rollout, kind=report.action, to_stage=report.to_stage, status=report.status,
                                  actor="controller", reason=report.reason, evidence=report.to_dict(), now=now)
        except ConflictError:
            log.info("rollout changed by another process first; re-evaluating next tick")
            return None
        TRANSITIONS.labels(report.action).inc()
        log.warning("rollout transition", extra={"kind": report.action, "from_stage": rollout.stage.name,
                                                 "to_stage": rollout.plan.stages[report.to_stage].name,
                                                 "reason": report.reason})
        return self.store.history(rollout.id)[-1]

    @staticmethod
    def _gauge(report: Report) -> None:
        evidence = report.stage_evidence.to_dict()
        candidate = report.rollout.plan.candidate
        for name in GAUGED:
            value = evidence.get(name)
            EVIDENCE.labels(candidate, name).set(float("nan") if value is None else float(value))
        EVIDENCE_AGE.labels(candidate).set(report.evidence_age_s)
        EVIDENCE_STALLED.labels(candidate).set(1.0 if report.stalled else 0.0)

    async def run_forever(self, *, default_interval_s: float = 30.0) -> None:
        """Ticks every plan's `evaluation_interval_s`; a failing tick is logged and retried on the next one."""
        while True:
            interval = default_interval_s
            try:
                rollout = await asyncio.to_thread(self.store.current)
                if rollout is not None:
                    interval = rollout.plan.evaluation_interval_s
                    await asyncio.to_thread(self.tick)
            except Exception:
                log.exception("rollout controller tick failed")
            await asyncio.sleep(interval)

    # --- operator commands ---
    def _current(self) -> Rollout:
        rollout = self.store.current()
        if rollout is None:
            raise RolloutStateError("no rollout in progress: start one with `peptalk rollout start PLAN`")
        return rollout

    def _operator(self, rollout: Rollout, kind: TransitionKind, to_stage: int, status: Status, reason: str, *,
                  restart_clock: bool = False) -> Rollout:
        report = self.evaluate(rollout)
        return self.store.transition(rollout, kind=kind, to_stage=to_stage, status=status, actor="operator",
                                     reason=reason, evidence=report.to_dict(), restart_clock=restart_clock)

    def approve(self, *, reason: str = "approved") -> Rollout:
        rollout = self._current()
        if rollout.status != "awaiting_approval":
            raise RolloutStateError(f"nothing to approve: the rollout is {rollout.status} at stage "
                                    f"{rollout.stage.name!r} (approval comes after its gates pass)")
        return self._operator(rollout, "approve", rollout.stage_index + 1, "active", reason)

    def pause(self, *, reason: str = "paused") -> Rollout:
        rollout = self._current()
        if rollout.status not in ("active", "awaiting_approval"):
            raise RolloutStateError(f"cannot pause a rollout that is {rollout.status}")
        return self._operator(rollout, "pause", rollout.stage_index, "paused", reason)

    def resume(self, *, reason: str = "resumed") -> Rollout:
        rollout = self._current()
        if rollout.status not in ("paused", "rolled_back"):
            raise RolloutStateError(f"cannot resume a rollout that is {rollout.status}")
        # The stage's clock and evidence start afresh: the evidence before the pause (or the rollback) does not count,
        # and the stage's min_duration_s is served again before the next advance.
        return self._operator(rollout, "resume", rollout.stage_index, "active", reason, restart_clock=True)

    def rollback(self, *, to_stage: str | None = None, reason: str = "rolled back by an operator") -> Rollout:
        rollout = self._current()
        target = 0 if to_stage is None else rollout.plan.stage_index(to_stage)
        if target > rollout.stage_index:
            raise RolloutStateError(f"stage {to_stage!r} is ahead of the current stage {rollout.stage.name!r}")
        return self._operator(rollout, "rollback", target, "rolled_back", reason)
