"""Judge reliability against human pairwise ratings of the same pairs, and the plan's gate on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
    rollout = store.create(make_plan(gates={"human_agreement_min": 0.9}), actor="operator", reason="t",
                           now=NOW - dt.timedelta(minutes=1))
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
    assert evidence.human_rated_pairs == 3
    assert evidence.human_agreement == 2 / 3
    gate = next(g for g in advance_gates(rollout.stage, evidence) if g.name == "human_agreement_min")
    assert gate.passed is False
    store.close()
