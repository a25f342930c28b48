"""Pairwise rating (`PEPTALK_RATING_MODE=pairwise`) on a real uvicorn, driven by headless Chromium.

A rater compares responses A and B on each criterion and picks A, B or a tie; the stored preference names the
model behind the chosen label, and no page gives a model away.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.rating import Blinder, RatingStore, build_units
from evaluation.rating.auth import resolve_secret
from peptalk.db import make_engine, sqlite_url
from tests.evaluation.rating.conftest import ADMIN_TOKEN, MODEL_MARKERS, make_items, write_dataset
from tests.evaluation.rating.pages import leaked_markers
from tests.evaluation.rating.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.helpers import ROOT, free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
def pairwise_server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    assert Path(CHROMIUM).exists(), "chromium is missing: run scripts/services/chromium.sh"
    data_dir = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(data_dir),
           "PEPTALK_RATING_ADMIN_TOKEN": ADMIN_TOKEN, "PEPTALK_RATING_RATERS_PER_ITEM": "2",
           "PEPTALK_RATING_ITEMS_PER_RATER": "3", "PEPTALK_RATING_MODE": "pairwise", "PEPTALK_LOG_LEVEL": "WARNING"}
    added = subprocess.run([sys.executable, "-m", "peptalk.cli", "rate", "raters", "add", "bea"], env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    token = added.stdout.strip().split("\t")[1]
    dataset = write_dataset(tmp_path / "dataset.jsonl", make_items(4))
    port = free_port()
    cmd = [sys.executable, "-m", "peptalk.cli", "rate", "serve", str(dataset), "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "rating-pairwise-server.log", env=env):
        yield f"http://127.0.0.1:{port}", data_dir, token


def test_rate_three_pairs_with_a_b_and_tie(pairwise_server: tuple[str, Path, str]) -> None:
    from playwright.sync_api import sync_playwright

    url, data_dir, token = pairwise_server
    choices = ["A", "B", "tie"]
    tasks: list[str] = []
    scores: list[dict[str, int]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{url}/signin")
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.wait_for_url("**/rate/*")
            for position, choice in enumerate(choices, start=1):
                assert page.inner_text("h1") == f"Item {position} of 3"
                assert [label.strip() for label in page.locator("section.card h3").all_inner_texts()] == \
                    ["Response A", "Response B"]
                boxes = page.locator("input[type=number]").all()
                assert len(boxes) >= 2 and len(boxes) % 2 == 0  # every criterion, for each response
                filled = {}
                for offset, box in enumerate(boxes):
                    filled[box.get_attribute("name")] = (position + offset) % 11
                    box.fill(str(filled[box.get_attribute("name")]))
                page.check(f"input[name=choice][value={choice}]")
                html = page.content()
                assert leaked_markers(html, MODEL_MARKERS) == []
                tasks.append(page.get_attribute("form#rating", "action").rsplit("/", 1)[1])
                scores.append(filled)
                page.click("form#rating button[type=submit]")
                page.wait_for_url("**/rate/*" if position < 3 else "**/*")
            page.goto(f"{url}/next")
            assert "you have rated all 3" in page.inner_text("body")
            assert errors == []
        finally:
            browser.close()

    store = RatingStore(make_engine(sqlite_url(data_dir / "peptalk.db")))
    rows = store.score_rows()
    units = {unit.unit_id: unit for unit in build_units(make_items(4), "pairwise")}
    rated = sorted({row.unit_id for row in rows})
    assert len(rated) == 3 and len(rows) == 6 and {row.mode for row in rows} == {"pairwise"}
    blinder = Blinder(resolve_secret(None, data_dir))
    preferences = set()
    for unit_id in rated:
        by_label = {slot.label: slot.model for slot in blinder.slots("bea", units[unit_id], pairwise=True)}
        [preference] = {row.preference for row in rows if row.unit_id == unit_id}
        assert preference in (by_label["A"], by_label["B"], "tie")
        preferences.add("tie" if preference == "tie" else "A" if preference == by_label["A"] else "B")
        assert all(row.criteria and all(0 <= value <= 10 for value in row.criteria.values())
                   for row in rows if row.unit_id == unit_id)
    assert preferences == set(choices)  # each choice was stored as the model behind its label
    stored_scores = sorted(value for row in rows for value in row.criteria.values())
    assert stored_scores == sorted(value for page_scores in scores for value in page_scores.values())
