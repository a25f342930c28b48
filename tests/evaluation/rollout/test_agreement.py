"""Judge reliability against human pairwise ratings of the same pairs: Cohen's kappa with its interval, gated only
once the plan's minimum number of ratings exists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evaluation.rating.store import RatingStore, submissions_table
from evaluation.rollout.judge import PairwiseJudgeWorker
from peptalk.rollout.evidence import compute_evidence
from peptalk.rollout.gates import advance_gates
from peptalk.rollout.store import RolloutStore
from peptalk.shadow import SqlShadowStore
from tests.peptalk.rollout.helpers import CANDIDATE, PRIMARY, make_plan, store_pair, store_verdict

NOW = dt.datetime.now(dt.timezone.utc)


def rate(store: RolloutStore, prompt_id: str, preference: str, models: tuple[str, str] = (CANDIDATE, PRIMARY),
         rater: str = "ann") -> None:
    with store.engine.begin() as connection:
        connection.execute(submissions_table.insert().values(
            rater=rater, unit_id=f"{prompt_id}|{'|'.join(sorted(models))}", prompt_id=prompt_id, mode="pairwise",
            preference=preference, nonce=f"{rater}-{prompt_id}", created_at=NOW, updated_at=NOW))


def test_agreement_with_human_raters_is_stored_and_gated(tmp_path: Path) -> None:
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    RatingStore(store.engine).migrate()
    rollout = store.create(make_plan(gates={"human_kappa_min": 0.2, "human_min_ratings": 3}), actor="operator",
                           reason="t", now=NOW - dt.timedelta(minutes=1))
    shadow = SqlShadowStore(store.engine)
    at = NOW - dt.timedelta(seconds=30)
    first, second, third, unrated = (store_pair(shadow, at=at) for _ in range(4))
    store_verdict(store, first, at=at, outcome="win")
    store_verdict(store, second, at=at, outcome="loss")
    store_verdict(store, third, at=at, outcome="loss")
    store_verdict(store, unrated, at=at, outcome="tie")
    rate(store, first, CANDIDATE)                       # agrees
    rate(store, second, "tie")                          # disagrees
    rate(store, third, PRIMARY)                         # agrees
    rate(store, third, CANDIDATE, models=(CANDIDATE, "embedded:smollm2-135m"), rater="bob")  # other models: ignored
    worker = PairwiseJudgeWorker(store, client=None, prices=None)  # type: ignore[arg-type]
    worker.refresh_human_agreement(rollout)
    evidence = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=rollout.created_at, until=NOW)
    assert (evidence.human_rated_pairs, evidence.human_ratings) == (3, 3)
    assert evidence.human_agreement == 2 / 3
    # judge (win, loss, loss) vs humans (win, tie, loss): p_o = 2/3, p_e = 1/3*1/3 + 2/3*1/3 = 1/3, kappa = 1/2
    assert evidence.human_kappa == pytest.approx(0.5)
    assert evidence.human_kappa_lower_bound < 0.2 < evidence.human_kappa_upper_bound  # three ratings: too few to say
    gate = next(g for g in advance_gates(rollout.stage, evidence) if g.name == "human_kappa_min")
    assert gate.passed is None
    store.close()


def test_one_agreeing_rating_does_not_pass_the_gate(tmp_path: Path) -> None:
    """Issue 24: raw agreement passed on a single agreeing rating."""
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    RatingStore(store.engine).migrate()
    rollout = store.create(make_plan(gates={"human_kappa_min": 0.4}), actor="operator", reason="t",
                           now=NOW - dt.timedelta(minutes=1))
    shadow = SqlShadowStore(store.engine)
    at = NOW - dt.timedelta(seconds=30)
    pair = store_pair(shadow, at=at)
    store_verdict(store, pair, at=at, outcome="win")
    rate(store, pair, CANDIDATE)
    PairwiseJudgeWorker(store, client=None, prices=None).refresh_human_agreement(rollout)  # type: ignore[arg-type]
    evidence = compute_evidence(store, candidate=CANDIDATE, primary=PRIMARY, since=rollout.created_at, until=NOW)
    assert evidence.human_agreement == 1.0 and evidence.human_kappa is None  # one label: kappa undefined
    gate = next(g for g in advance_gates(rollout.stage, evidence) if g.name == "human_kappa_min")
    assert gate.passed is None  # under human_min_ratings (30 by default): not read
    store.close()
