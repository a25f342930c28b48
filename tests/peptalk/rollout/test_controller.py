"""The controller on a real SQLite database: it advances when every bound passes, waits for approval when asked,
rolls back when a detector fires (to 0% for errors, one stage for latency or quality), restarts the stage clock
on resume, reports stalled evidence, and loses races safely."""

from __future__ import annotations

import datetime as dt

import pytest

from peptalk.rollout.controller import Controller
from peptalk.rollout.errors import ConflictError, RolloutStateError
from peptalk.rollout.evidence import compute_evidence
from tests.peptalk.rollout.helpers import (CANDIDATE, PRIMARY, judged_pairs, make_plan, store_pair, store_tally,
                                           store_verdict)

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.timezone.utc)


def seconds(value: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=value)


def test_evidence_counts_pairs_verdicts_bounds_latency_and_failures(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    judged_pairs(shadow, store, 6, at=seconds(1), outcome="win", candidate_latency_s=2.0, primary_latency_s=1.0)
    judged_pairs(shadow, store, 2, at=seconds(2), outcome="loss", candidate_served=True)
    store_pair(shadow, at=seconds(3), candidate_error="TimeoutError: no complete answer within 5 s")
    store_pair(shadow, at=seconds(3), candidate_error="AllBackendsFailed: connection refused")
    store_tally(store, at=seconds(3), calls=40, errors=2, timeouts=1, empty_answers=1)  # every call, not the pairs
    evidence = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=T0, until=seconds(10))
    assert (evidence.pairs, evidence.judged_pairs, evidence.wins, evidence.losses) == (10, 8, 6, 2)
    assert evidence.preference_share == pytest.approx(0.75)
    assert 0.0 < evidence.preference_lower_bound < 0.75 < evidence.preference_upper_bound <= 1.0
    assert evidence.margin == pytest.approx(0.45)
    assert (evidence.candidate_calls, evidence.candidate_errors, evidence.candidate_timeouts,
            evidence.candidate_empty_answers) == (40, 2, 1, 1)
    assert evidence.error_rate == pytest.approx(0.05)  # 2 of 40 calls, not 2 of the 10 pairs
    assert evidence.error_rate_lower_bound < 0.05 < evidence.error_rate_upper_bound
    assert evidence.latency_samples == 8
    assert evidence.latency_p95_ratio == pytest.approx(2.0)
    assert evidence.latency_p95_upper_bound_s is None  # a p95's bound needs 59 samples
    assert evidence.consistency == 1.0
    assert evidence.first_position_share == pytest.approx(0.5)  # each order read the same: no position bias
    outside = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=seconds(5), until=seconds(10))
    assert outside.pairs == 0 and outside.preference_lower_bound is None and outside.candidate_calls == 0


def test_a_tie_is_half_a_win_so_ties_and_losses_never_pass(stores) -> None:  # noqa: ANN001
    """Issue 24's judge: 55% ties and 45% losses (preference share 0.275) was promoted as "win-or-tie" 0.55."""
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    judged_pairs(shadow, store, 55, at=seconds(1), outcome="tie")
    judged_pairs(shadow, store, 45, at=seconds(1), outcome="loss")
    store_tally(store, at=seconds(1), calls=500)
    controller = Controller(store)
    report = controller.evaluate(store.current(), now=seconds(2))
    assert report.stage_evidence.preference_share == pytest.approx(0.275)
    assert report.stage_evidence.preference_upper_bound < 0.45
    assert next(g for g in report.gates if g.name == "preference_share").passed is False
    assert controller.tick(now=seconds(2)) is None and store.current().stage.name == "shadow"


def test_position_bias_is_reported(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    for _ in range(8):  # the judge prefers whatever it reads first: every pair a tie, marked inconsistent
        store_verdict(store, store_pair(shadow, at=seconds(1)), at=seconds(1), outcome="tie", consistent=False,
                      first="win", second="loss")
    evidence = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=T0, until=seconds(10))
    assert (evidence.first_position_wins, evidence.second_position_wins) == (16, 0)
    assert evidence.first_position_share == 1.0 and evidence.consistency == 0.0


def advance_evidence(shadow, store, at: dt.datetime) -> None:  # noqa: ANN001
    """A candidate judged better on 12 pairs, with 300 clean calls: enough for every bound of the test plan."""
    judged_pairs(shadow, store, 12, at=at, outcome="win")
    store_tally(store, at=at, calls=300)


def test_a_candidate_shown_no_worse_advances_stage_by_stage_to_100_percent(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    clock = 0.0
    for expected in ["canary-5", "25", "50", "all"]:
        assert controller.tick(now=seconds(clock + 0.5)) is None  # no verdicts in the new stage yet
        advance_evidence(shadow, store, seconds(clock + 1))
        transition = controller.tick(now=seconds(clock + 2))
        assert transition is not None and transition.kind == "advance" and transition.to_stage == expected
        assert transition.evidence["evidence"]["judged_pairs"] == 12  # stored with the evidence that caused it
        clock += 3
    current = store.current()
    assert current is not None and current.share == 1.0
    advance_evidence(shadow, store, seconds(clock + 1))
    assert controller.tick(now=seconds(clock + 2)) is None  # the last stage: monitoring only


def test_clean_calls_are_needed_before_the_error_bound_passes(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    judged_pairs(shadow, store, 12, at=seconds(1), outcome="win")
    store_tally(store, at=seconds(1), calls=20)  # no error in 20 calls: not yet shown under 5%
    controller = Controller(store)
    report = controller.evaluate(store.current(), now=seconds(2))
    assert next(g for g in report.gates if g.name == "error_rate_max").passed is None
    assert controller.tick(now=seconds(2)) is None
    store_tally(store, at=seconds(3), calls=280)
    assert controller.tick(now=seconds(4)).kind == "advance"


def test_a_candidate_judged_worse_never_leaves_shadow(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    judged_pairs(shadow, store, 30, at=seconds(1), outcome="loss")
    judged_pairs(shadow, store, 10, at=seconds(1), outcome="tie")
    report = controller.evaluate(store.current(), now=seconds(2))
    assert report.stage_evidence.preference_upper_bound < 0.45
    assert controller.tick(now=seconds(2)) is None
    assert store.current().stage.name == "shadow"


def test_min_duration_and_approval_hold_the_stage(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    data_stages = make_plan().model_dump()["stages"]
    data_stages[0].update(min_duration_s=100, approval=True)
    store.create(make_plan(stages=data_stages), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    advance_evidence(shadow, store, seconds(1))
    assert controller.tick(now=seconds(50)) is None  # too young
    transition = controller.tick(now=seconds(101))
    assert transition.kind == "gates_passed" and store.current().status == "awaiting_approval"
    assert store.current().stage.name == "shadow"
    controller.pause()
    with pytest.raises(RolloutStateError, match="cannot pause"):
        controller.pause()
    resumed = controller.resume()
    assert resumed.stage_entered_at > seconds(101)  # resume restarts the stage's clock and evidence
    assert controller.tick(now=resumed.stage_entered_at + dt.timedelta(seconds=50)) is None  # young again
    advance_evidence(shadow, store, resumed.stage_entered_at + dt.timedelta(seconds=1))
    transition = controller.tick(now=resumed.stage_entered_at + dt.timedelta(seconds=101))
    assert transition.kind == "gates_passed"
    approved = controller.approve(reason="looks good")
    assert (approved.stage.name, approved.status) == ("canary-5", "active")
    with pytest.raises(RolloutStateError, match="nothing to approve"):
        controller.approve()


def test_errors_roll_back_to_zero_at_once_and_hold(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    rollout = store.transition(rollout, kind="advance", to_stage=3, status="active", actor="operator", reason="t",
                               now=seconds(1))
    controller = Controller(store)
    store_tally(store, at=seconds(2), calls=2, errors=2)  # under min_calls: no rollback on two calls
    assert controller.tick(now=seconds(3)) is None
    for index in range(4):
        store_tally(store, at=seconds(3 + index), calls=1, errors=1)
    transition = controller.tick(now=seconds(8))
    assert (transition.kind, transition.from_stage, transition.to_stage) == ("rollback", "50", "shadow")
    assert "error_rate_max" in transition.reason
    evidence = transition.evidence["evidence"]
    assert evidence["candidate_errors"] == 6 and evidence["error_detector"] >= rollout.plan.gates.rollback_arl
    assert store.current().status == "rolled_back"
    advance_evidence(shadow, store, seconds(9))
    assert Controller(store).tick(now=seconds(10)) is None  # held until an operator resumes


def test_one_error_in_a_few_calls_does_not_roll_back(stores) -> None:  # noqa: ANN001
    """Issue 24: one error in 11 recent calls tripped the hard gate."""
    store, _ = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    store.transition(rollout, kind="advance", to_stage=3, status="active", actor="operator", reason="t",
                     now=seconds(1))
    store_tally(store, at=seconds(2), calls=10)
    store_tally(store, at=seconds(3), calls=1, errors=1)
    report = Controller(store).evaluate(store.current(), now=seconds(4))
    assert report.breaches == [] and report.stage_evidence.error_rate == pytest.approx(1 / 11)


def test_slowing_rolls_back_one_stage_to_the_last_safe_one(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    store.transition(rollout, kind="advance", to_stage=2, status="active", actor="operator", reason="t",
                     now=seconds(1))
    rollout = store.current()
    slow_gates = {**rollout.plan.gates.model_dump(), "p95_latency_ratio_max": 3.0}
    plan = make_plan(gates=slow_gates)
    rollout = store.create(plan, actor="operator", reason="slow", now=T0)
    store.transition(rollout, kind="advance", to_stage=2, status="active", actor="operator", reason="t",
                     now=seconds(1))
    for _ in range(5):
        store_pair(shadow, at=seconds(2), candidate_served=True, candidate_latency_s=9.0, primary_latency_s=1.0)
    controller = Controller(store)
    for check in range(1, plan.gates.failure_limit):  # failing checks below the failure limit: no rollback yet
        assert controller.tick(now=seconds(2 + check)) is None
        assert controller.evaluate(store.current(), now=seconds(2 + check)).latency_streak == check + 1
    transition = controller.tick(now=seconds(10))
    assert (transition.kind, transition.to_stage) == ("rollback", "canary-5")
    assert "latency" in transition.reason and transition.evidence["latency_streak"] == plan.gates.failure_limit


def test_two_controllers_racing_make_one_transition(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    advance_evidence(shadow, store, seconds(1))
    stale = store.current()
    assert Controller(store).tick(now=seconds(2)) is not None
    with pytest.raises(ConflictError):
        store.transition(stale, kind="advance", to_stage=1, status="active", actor="controller", reason="late")
    assert [t.kind for t in store.history()] == ["start", "advance"]


def test_operator_rollback_to_a_named_stage(stores) -> None:  # noqa: ANN001
    store, _ = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    store.transition(rollout, kind="advance", to_stage=3, status="active", actor="operator", reason="t")
    controller = Controller(store)
    with pytest.raises(RolloutStateError, match="ahead"):
        controller.rollback(to_stage="all")
    back = controller.rollback(to_stage="canary-5", reason="drill")
    assert (back.stage.name, back.status) == ("canary-5", "rolled_back")
    assert store.history()[-1].reason == "drill"


def test_evidence_that_stops_arriving_is_reported_stalled(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    store.transition(rollout, kind="advance", to_stage=4, status="active", actor="operator", reason="t",
                     now=seconds(1))
    controller = Controller(store)
    judged_pairs(shadow, store, 3, at=seconds(2), outcome="tie")
    stall = rollout.plan.gates.stall_after_s
    assert controller.evaluate(store.current(), now=seconds(100)).stalled is False
    report = controller.evaluate(store.current(), now=seconds(3 + stall))
    assert report.stalled and report.to_dict()["stalled"] and any("stalled" in note for note in report.notes)
    controller.tick(now=seconds(3 + stall))
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("peptalk_rollout_evidence_stalled", {"candidate": CANDIDATE}) == 1.0
