"""The rating app as two real uvicorn processes on one PostgreSQL: concurrent raters, exact assignment (issue 19)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from evaluation.rating.store import RatingStore, assignments_table
from peptalk.db import make_engine
from tests.conftest import ARTIFACTS
from tests.evaluation.rating.conftest import ADMIN_TOKEN, make_items, write_dataset
from tests.helpers import free_port, python, running

UNITS, RATERS, RATERS_PER_ITEM, ITEMS_PER_RATER = 6, 12, 2, 3  # 12 places for 36 wishes: the races are for real


def rating_process(dataset: Path, database_url: str, data_dir: Path, name: str):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {"PEPTALK_DATABASE_URL": database_url, "PEPTALK_DATA_DIR": str(data_dir), "PEPTALK_LOG_LEVEL": "WARNING",
           # Every process must share the cookie secret and the admin token (see docs/replicas.md).
           "PEPTALK_RATING_SECRET": "a-secret-shared-by-every-process", "PEPTALK_RATING_ADMIN_TOKEN": ADMIN_TOKEN,
           "PEPTALK_RATING_RATERS_PER_ITEM": str(RATERS_PER_ITEM),
           "PEPTALK_RATING_ITEMS_PER_RATER": str(ITEMS_PER_RATER)}
    cmd = [python(), "-m", "peptalk.cli", "rate", "serve", str(dataset), "--host", "127.0.0.1", "--port", str(port)]
    return f"http://127.0.0.1:{port}", running(cmd, f"http://127.0.0.1:{port}/signin", env=env,
                                               log=ARTIFACTS / f"rating-{name}-{port}.log", timeout_s=120)


@pytest.mark.timeout(300)
def test_concurrent_raters_on_two_processes_get_an_exact_assignment(postgres_database: str, tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "items.jsonl", make_items(UNITS))
    store = RatingStore(make_engine(postgres_database))
    store.migrate()
    tokens = {f"rater{index:02d}": store.issue_token(f"rater{index:02d}") for index in range(RATERS)}
    first_url, first = rating_process(dataset, postgres_database, tmp_path / "a", "a")
    second_url, second = rating_process(dataset, postgres_database, tmp_path / "b", "b")
    urls = [first_url, second_url]
    start = threading.Barrier(RATERS)

    def rate(index: int, rater: str) -> int:
        with httpx.Client(timeout=60) as client:
            signed_in = client.post(f"{urls[index % 2]}/signin", data={"token": tokens[rater]})
            assert signed_in.status_code == 303, signed_in.text[:500]  # to /next, not followed yet
            start.wait(timeout=60)
            # The cookie from one process is honoured by the other; /next assigns, all raters at once.
            return client.get(f"{urls[(index + 1) % 2]}/next", follow_redirects=False).status_code

    with contextlib.ExitStack() as stack:
        stack.enter_context(first)
        stack.enter_context(second)
        with ThreadPoolExecutor(RATERS) as pool:
            statuses = list(pool.map(rate, range(RATERS), tokens))
    assert set(statuses) <= {200, 303}, statuses
    with store.engine.connect() as connection:
        rows = connection.execute(select(assignments_table.c.rater, assignments_table.c.unit_id,
                                         assignments_table.c.seq)).all()
    store.engine.dispose()
    per_unit = Counter(unit_id for _, unit_id, _ in rows)
    assert sorted(per_unit.values()) == [RATERS_PER_ITEM] * UNITS  # every unit filled, none over-filled
    per_rater = Counter(rater for rater, _, _ in rows)
    assert max(per_rater.values()) <= ITEMS_PER_RATER
    for rater in per_rater:  # each rater's sequence is 0..n-1, with no unit twice
        seqs = sorted(seq for who, _, seq in rows if who == rater)
        assert seqs == list(range(len(seqs)))
