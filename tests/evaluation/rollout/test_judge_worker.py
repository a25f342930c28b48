"""The pairwise judge worker against the OpenAI-protocol judge double, through the real router: both orders,
verdicts stored with their raw text, unreadable answers never guessed, and the call and dollar budgets kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from evaluation.rollout.judge import PROMPT_VERSION, combine, outcome_of
from evaluation.rollout.worker import judge_passes
from evaluation.settings import EvalSettings
from peptalk.rollout.store import RolloutStore
from peptalk.shadow import SqlShadowStore
from peptalk.shadow.store import shadow_calls
from tests.doubles.judge_openai import JudgeDouble, always, prefer
from tests.peptalk.rollout.helpers import CANDIDATE, make_plan, store_pair

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def judge() -> Iterator[JudgeDouble]:
    with JudgeDouble(model="gpt-4") as double:  # priced like GPT-4, so the dollar budget is exercised
        yield double


@pytest.fixture
def setup(tmp_path: Path, judge: JudgeDouble) -> Iterator[tuple[RolloutStore, SqlShadowStore, EvalSettings]]:
    store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    store.migrate()
    settings = EvalSettings(_env_file=None, backends=["openai"], openai_base_url=judge.base_url, openai_api_key="k",
                        openai_models=["gpt-4"], default_model="openai:gpt-4", log_level="WARNING",
                        retry_attempts=1)
    yield store, SqlShadowStore(store.engine), settings
    store.close()


def start(store: RolloutStore, **judge: object) -> None:
    store.create(make_plan(judge={"model": "openai:gpt-4", "sample_rate": 1.0, "max_calls_per_hour": 1000,
                                  "max_usd_per_day": 100, **judge}),
                 actor="operator", reason="test", now=NOW - dt.timedelta(minutes=5))


def test_orders_combine_into_the_candidates_outcome() -> None:
    assert outcome_of(1, "candidate_first") == "win" and outcome_of(1, "primary_first") == "loss"
    assert outcome_of(2, "primary_first") == "win" and outcome_of(3, "primary_first") == "tie"
    assert combine("win", "win") == ("win", True)
    assert combine("win", "loss") == ("tie", False)


async def test_the_judge_prefers_the_candidate_in_both_orders(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store)
    pair_ids = [store_pair(shadow, at=NOW - dt.timedelta(seconds=30)) for _ in range(3)]
    with store.engine.connect() as connection:
        models = {row.response: row.model for row in connection.execute(select(shadow_calls.c.response,
                                                                               shadow_calls.c.model))}
    judge.decide = prefer(models.get, CANDIDATE)
    before = judge.calls
    run = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert (run.judged, run.unparsed, run.failed) == (3, 0, 0)
    assert judge.calls - before == 6 and judge.rejected == 0  # both orders, and the double accepted every request
    verdicts = store.verdicts(CANDIDATE)
    assert {v.pair_id for v in verdicts} == set(pair_ids)
    for verdict in verdicts:
        assert (verdict.outcome, verdict.consistent) == ("win", True)
        assert verdict.raw_candidate_first.endswith("Choice: 1") and verdict.raw_primary_first.endswith("Choice: 2")
        assert (verdict.judge_model, verdict.prompt_version, verdict.calls) == ("openai:gpt-4", PROMPT_VERSION, 2)
        assert verdict.cost_usd > 0  # priced from the price table
    again = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert again.judged == 0  # judged pairs are not judged twice


async def test_position_bias_is_a_tie_marked_inconsistent(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store)
    store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    judge.decide = always("The first one.\nChoice: 1")
    await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    [verdict] = store.verdicts(CANDIDATE)
    assert (verdict.outcome, verdict.consistent) == ("tie", False)
    assert (verdict.candidate_first_outcome, verdict.primary_first_outcome) == ("win", "loss")  # kept per order


async def test_an_empty_candidate_answer_is_a_loss_without_a_judge_call(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store)
    pair = store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    with store.engine.begin() as connection:
        connection.execute(shadow_calls.update().where(shadow_calls.c.pair_id == pair,
                                                       shadow_calls.c.model == CANDIDATE).values(response=""))
    before = judge.calls
    run = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert run.judged == 1 and judge.calls == before
    [verdict] = store.verdicts(CANDIDATE)
    assert (verdict.outcome, verdict.problem, verdict.calls) == ("loss", "empty candidate answer", 0)


async def test_an_unreadable_answer_is_stored_unjudged_never_guessed(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store)
    store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    judge.decide = always("Both have merits; Choice: 1 or maybe Choice: 2.")
    run = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert (run.judged, run.unparsed) == (0, 1)
    [verdict] = store.verdicts(CANDIDATE)
    assert verdict.outcome is None and verdict.consistent is None
    assert "contradictory" in verdict.problem and "Choice: 2" in verdict.raw_candidate_first


async def test_the_call_budget_stops_the_pass(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store, max_calls_per_hour=4)
    for _ in range(5):
        store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    judge.decide = always("Choice: 3")
    run = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert run.judged == 2 and run.skipped_by_budget == 1 and "call budget" in run.stopped_by
    assert store.judge_spend(since=NOW - dt.timedelta(hours=1))[0] == 4


async def test_the_dollar_budget_stops_the_pass(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store, max_usd_per_day=0.05)  # one pair's two GPT-4 calls cost about $0.03 at most
    for _ in range(5):
        store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    judge.decide = always("Choice: 3")
    run = await judge_passes(store, once=True, interval_s=1, limit=10, settings=settings)
    assert run.judged >= 1 and "dollar budget" in run.stopped_by
    assert store.judge_spend(since=NOW - dt.timedelta(days=1))[1] <= 0.05


async def test_the_sample_rate_picks_a_stable_share_of_pairs(setup, judge: JudgeDouble) -> None:  # noqa: ANN001
    store, shadow, settings = setup
    start(store, sample_rate=0.5)
    for _ in range(40):
        store_pair(shadow, at=NOW - dt.timedelta(seconds=30))
    judge.decide = always("Choice: 3")
    run = await judge_passes(store, once=True, interval_s=1, limit=100, settings=settings)
    assert 8 <= run.judged <= 32  # 40 pairs at 0.5: well inside 4 standard deviations
    assert (await judge_passes(store, once=True, interval_s=1, limit=100, settings=settings)).judged == 0
