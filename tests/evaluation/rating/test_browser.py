"""The rating app on a real uvicorn, driven by headless Chromium: sign in, rate, refresh, double submit, no leaks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evaluation.rating import Blinder, RatingStore, build_units
from evaluation.rating.auth import resolve_secret
from peptalk.db import make_engine, sqlite_url
from tests.evaluation.rating.conftest import ADMIN_TOKEN, MODEL_MARKERS, MODELS, make_items, write_dataset
from tests.evaluation.rating.pages import leaked_markers
from tests.helpers import ROOT, free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def rating_server(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """`peptalk rate serve` on 127.0.0.1 over four items; yields its URL, data dir and a rater token."""
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/services/chromium.sh")
    data_dir = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(data_dir),
           "PEPTALK_RATING_ADMIN_TOKEN": ADMIN_TOKEN, "PEPTALK_RATING_RATERS_PER_ITEM": "2",
           "PEPTALK_RATING_ITEMS_PER_RATER": "3", "PEPTALK_LOG_LEVEL": "WARNING"}
    added = subprocess.run([sys.executable, "-m", "peptalk.cli", "rate", "raters", "add", "ann"], env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    token = added.stdout.strip().split("\t")[1]
    dataset = write_dataset(tmp_path / "dataset.jsonl", make_items(4))
    port = free_port()
    cmd = [sys.executable, "-m", "peptalk.cli", "rate", "serve", str(dataset), "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "rating-server.log", env=env):
        yield f"http://127.0.0.1:{port}", data_dir, token


def fill_scores(page, base: int) -> dict[str, int]:  # noqa: ANN001
    """Types a score into every score box of the page; returns {field name: score}."""
    scores = {}
    for offset, box in enumerate(page.locator("input[type=number]").all()):
        name = box.get_attribute("name")
        scores[name] = (base + offset) % 11
        box.fill(str(scores[name]))
    return scores


def test_sign_in_rate_three_items_with_a_refresh_and_a_double_submit(rating_server: tuple[str, Path, str]) -> None:
    from playwright.sync_api import sync_playwright

    url, data_dir, token = rating_server
    submitted: dict[str, int] = {}  # score field name -> the score that should be stored
    responses: list[tuple[str, dict[str, str], int]] = []  # every response the browser got, redirects included
    bodies: list[tuple[str, str]] = []  # every body, read in full
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            def capture(response) -> None:  # noqa: ANN001
                responses.append((response.url, response.headers, response.status))
                if not 300 <= response.status < 400:  # a redirect's body is dropped by the browser
                    # Read at once, in the event, before a navigation can drop it; a failure fails the test.
                    bodies.append((response.url, response.text()))

            page.on("response", capture)
            pages_html: list[str] = []

            page.goto(f"{url}/signin")
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.wait_for_url("**/rate/*")

            # Item 1: rate and save.
            assert page.inner_text("h1") == "Item 1 of 3"
            submitted |= fill_scores(page, 2)
            page.locator("textarea").first.fill("Warm and specific.")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "rating-page.png"), full_page=True)
            pages_html.append(page.content())
            page.click("form#rating button[type=submit]")
            page.wait_for_url("**/rate/*")

            # Item 2: start, refresh mid-way (the half-typed scores are dropped), then rate and save.
            assert page.inner_text("h1") == "Item 2 of 3"
            fill_scores(page, 9)
            page.reload()
            assert all(box.input_value() == "" for box in page.locator("input[type=number]").all())
            submitted |= fill_scores(page, 5)
            pages_html.append(page.content())
            page.click("form#rating button[type=submit]")
            page.wait_for_url("**/rate/*")
            assert page.inner_text("h1") == "Item 3 of 3"

            # Back to item 2: it shows the saved scores; saving it again stores nothing new.
            page.go_back()
            assert page.inner_text("h1") == "Item 2 of 3"
            assert {box.get_attribute("name"): int(box.input_value())
                    for box in page.locator("input[type=number]").all()}.items() <= submitted.items()
            page.click("form#rating button[type=submit]")
            page.wait_for_url("**/rate/*")

            # Item 3: the same form posted twice (a double submit), then a 0-10 violation that is refused.
            assert page.inner_text("h1") == "Item 3 of 3"
            item3 = fill_scores(page, 7)
            pages_html.append(page.content())
            action = page.get_attribute("form#rating", "action")
            form = {"nonce": page.input_value("input[name=nonce]"), **{name: str(v) for name, v in item3.items()}}
            first, second = (page.request.post(f"{url}{action}", form=form, max_redirects=0) for _ in range(2))
            assert first.status == second.status == 303
            submitted |= item3
            bad = page.request.post(f"{url}{action}", form={**form, "nonce": "n" * 22,
                                                             next(iter(item3)): "11"}, max_redirects=0)
            assert bad.status == 422 and "Nothing was saved" in bad.text()
            page.goto(f"{url}/next")
            assert "you have rated all 3" in page.inner_text("body")
            pages_html.append(page.content())

            for html in pages_html:
                assert leaked_markers(html, MODEL_MARKERS) == []
            assert len(responses) >= 10
            # Every non-redirect body was read: an exception in the event handler would leave one out.
            assert len(bodies) == len([status for _, _, status in responses if not 300 <= status < 400]) >= 6
            for response_url, headers, _ in responses:
                assert leaked_markers(f"{response_url} {json.dumps(headers)}", MODEL_MARKERS) == [], response_url
            for response_url, body in bodies:
                assert body and leaked_markers(body, MODEL_MARKERS) == [], response_url
        finally:
            browser.close()

    # The database holds exactly the submitted ratings: three units, three responses each, the right model each.
    store = RatingStore(make_engine(sqlite_url(data_dir / "peptalk.db")))
    rows = store.score_rows()
    assert len(rows) == 9 and {row.rater for row in rows} == {"ann"}
    units = {unit.unit_id: unit for unit in build_units(make_items(4), "score")}
    blinder = Blinder(resolve_secret(None, data_dir))
    slot_of = {(unit_id, slot.model): f"score-{slot.slot_id}"
               for unit_id in {row.unit_id for row in rows}
               for slot in blinder.slots("ann", units[unit_id], pairwise=False)}
    assert {slot_of[(row.unit_id, row.model)]: int(row.score) for row in rows} == submitted
    assert {row.model for row in rows} == set(MODELS)
    assert [row.comment for row in rows].count("Warm and specific.") == 1
