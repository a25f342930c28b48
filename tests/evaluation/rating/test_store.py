"""The ratings store on a real SQLite file and on a real PostgreSQL server: tokens, assignment, idempotent writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluation.rating import RatingStore, ResponseScore, Submission, plan_assignments
from evaluation.rating.store import scores_table, submissions_table
from peptalk.db import current_revisions, make_engine, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RatingStore]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "peptalk.db")
    else:
        url = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    store = RatingStore(engine)
    store.migrate()
    yield store
    engine.dispose()


def submission(nonce: str, score: float, *, unit: str = "p0", rater: str = "ann") -> Submission:
    return Submission(rater=rater, unit_id=unit, prompt_id=unit, mode="score", nonce=nonce,
                      scores=(ResponseScore("m1", score, {}, "ok"), ResponseScore("m2", 10 - score)))


def count(store: RatingStore, table) -> int:  # noqa: ANN001
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def test_migration_is_on_its_own_branch(store: RatingStore) -> None:
    assert "ratings_0002" in current_revisions(store.engine)  # ratings_0002: the assignment lock (issue 19)


def test_tokens_are_stored_hashed_and_rotate(store: RatingStore) -> None:
    first = store.issue_token("ann")
    assert store.rater_for_token(first) == "ann"
    second = store.issue_token("ann")
    assert store.rater_for_token(first) is None and store.rater_for_token(second) == "ann"
    assert store.raters() == [("ann", True)]
    store.ensure_rater("bob")
    store.ensure_rater("bob")
    assert store.raters() == [("ann", True), ("bob", False)]


def test_same_nonce_twice_stores_once_and_a_new_nonce_updates(store: RatingStore) -> None:
    save: Callable[[Submission], str] = store.save
    assert save(submission("nonce-aaaaaaaaaaaaaaaa", 7)) == "created"
    assert save(submission("nonce-aaaaaaaaaaaaaaaa", 3)) == "duplicate"
    assert [row.score for row in store.score_rows()] == [7.0, 3.0]
    assert save(submission("nonce-bbbbbbbbbbbbbbbb", 4)) == "updated"
    assert [row.score for row in store.score_rows()] == [4.0, 6.0]
    assert count(store, submissions_table) == 1 and count(store, scores_table) == 2
    assert store.rated_units("ann") == {"p0"}


def test_store_assignment_matches_the_pure_plan_and_is_idempotent(store: RatingStore) -> None:
    units = [f"u{index}" for index in range(7)]
    raters = ["ann", "bob", "cy", "dee"]
    for rater in raters:
        store.assign(rater, units, raters_per_item=2, items_per_rater=4)
    expected = plan_assignments(raters, units, raters_per_item=2, items_per_rater=4)
    assert {rater: store.assigned_units(rater) for rater in raters} == expected
    assert store.assign("ann", units, raters_per_item=2, items_per_rater=4) == expected["ann"]
    assert sum(store.unit_loads().values()) == 14
