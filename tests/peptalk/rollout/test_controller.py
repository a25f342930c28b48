"""The controller on a real SQLite database: it advances on passing gates, waits for approval when asked,
rolls back at once on a breach (to 0% for errors, one stage for latency or quality), and loses races safely."""

from __future__ import annotations

import datetime as dt

import pytest

from peptalk.rollout.controller import Controller
from peptalk.rollout.errors import ConflictError, RolloutStateError
from peptalk.rollout.evidence import compute_evidence
from tests.peptalk.rollout.helpers import CANDIDATE, PRIMARY, judged_pairs, make_plan, store_pair

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.timezone.utc)


def seconds(value: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=value)


def test_evidence_counts_pairs_verdicts_bounds_latency_and_failures(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    judged_pairs(shadow, store, 6, at=seconds(1), outcome="win", candidate_latency_s=2.0, primary_latency_s=1.0)
    judged_pairs(shadow, store, 2, at=seconds(2), outcome="loss", candidate_served=True)
    store_pair(shadow, at=seconds(3), candidate_error="TimeoutError: no complete answer within 5 s")
    store_pair(shadow, at=seconds(3), candidate_error="AllBackendsFailed: connection refused")
    evidence = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=T0, until=seconds(10))
    assert (evidence.pairs, evidence.judged_pairs, evidence.wins, evidence.losses) == (10, 8, 6, 2)
    assert evidence.win_or_tie_rate == pytest.approx(0.75)
    assert 0.4 < evidence.win_or_tie_lower_bound < 0.75 < evidence.win_or_tie_upper_bound
    assert (evidence.candidate_errors, evidence.candidate_timeouts) == (2, 1)
    assert evidence.error_rate == pytest.approx(0.2)
    assert evidence.latency_samples == 8
    assert evidence.latency_p95_ratio == pytest.approx(2.0)
    assert evidence.consistency == 1.0
    outside = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=seconds(5), until=seconds(10))
    assert outside.pairs == 0 and outside.win_or_tie_lower_bound is None


def test_a_candidate_no_worse_advances_stage_by_stage_to_100_percent(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    clock = 0.0
    for expected in ["canary-5", "25", "50", "all"]:
        assert controller.tick(now=seconds(clock + 0.5)) is None  # no verdicts in the new stage yet
        judged_pairs(shadow, store, 12, at=seconds(clock + 1), outcome="tie")
        transition = controller.tick(now=seconds(clock + 2))
        assert transition is not None and transition.kind == "advance" and transition.to_stage == expected
        assert transition.evidence["evidence"]["judged_pairs"] == 12  # stored with the evidence that caused it
        clock += 3
    current = store.current()
    assert current is not None and current.share == 1.0
    judged_pairs(shadow, store, 12, at=seconds(clock + 1))
    assert controller.tick(now=seconds(clock + 2)) is None  # the last stage: monitoring only


def test_a_candidate_judged_worse_never_leaves_shadow(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    judged_pairs(shadow, store, 30, at=seconds(1), outcome="loss")
    judged_pairs(shadow, store, 10, at=seconds(1), outcome="tie")
    report = controller.evaluate(store.current(), now=seconds(2))
    assert report.stage_evidence.win_or_tie_upper_bound < 0.45
    assert controller.tick(now=seconds(2)) is None
    assert store.current().stage.name == "shadow"


def test_min_duration_and_approval_hold_the_stage(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    data_stages = make_plan().model_dump()["stages"]
    data_stages[0].update(min_duration_s=100, approval=True)
    store.create(make_plan(stages=data_stages), actor="operator", reason="test", now=T0)
    controller = Controller(store)
    judged_pairs(shadow, store, 12, at=seconds(1))
    assert controller.tick(now=seconds(50)) is None  # too young
    transition = controller.tick(now=seconds(101))
    assert transition.kind == "gates_passed" and store.current().status == "awaiting_approval"
    assert store.current().stage.name == "shadow"
    controller.pause()
    with pytest.raises(RolloutStateError, match="cannot pause"):
        controller.pause()
    controller.resume()
    controller.tick(now=seconds(102))
    approved = controller.approve(reason="looks good")
    assert (approved.stage.name, approved.status) == ("canary-5", "active")
    with pytest.raises(RolloutStateError, match="nothing to approve"):
        controller.approve()


def test_errors_roll_back_to_zero_at_once_and_hold(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    rollout = store.transition(rollout, kind="advance", to_stage=3, status="active", actor="operator", reason="t",
                               now=seconds(1))
    for index in range(4):
        store_pair(shadow, at=seconds(2), candidate_served=True, candidate_error="AllBackendsFailed: refused")
    transition = Controller(store).tick(now=seconds(3))
    assert (transition.kind, transition.from_stage, transition.to_stage) == ("rollback", "50", "shadow")
    assert "error_rate_max" in transition.reason
    assert transition.evidence["recent"]["candidate_errors"] == 4
    assert store.current().status == "rolled_back"
    judged_pairs(shadow, store, 12, at=seconds(4))
    assert Controller(store).tick(now=seconds(5)) is None  # held until an operator resumes


def test_slowing_rolls_back_one_stage_to_the_last_safe_one(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    rollout = store.create(make_plan(), actor="operator", reason="test", now=T0)
    store.transition(rollout, kind="advance", to_stage=2, status="active", actor="operator", reason="t",
                     now=seconds(1))
    for _ in range(5):
        store_pair(shadow, at=seconds(2), candidate_served=True, candidate_latency_s=9.0, primary_latency_s=1.0)
    transition = Controller(store).tick(now=seconds(3))
    assert (transition.kind, transition.to_stage) == ("rollback", "canary-5")
    assert "p95_latency_ratio_max" in transition.reason


def test_two_controllers_racing_make_one_transition(stores) -> None:  # noqa: ANN001
    store, shadow = stores
    store.create(make_plan(), actor="operator", reason="test", now=T0)
    judged_pairs(shadow, store, 12, at=seconds(1))
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
