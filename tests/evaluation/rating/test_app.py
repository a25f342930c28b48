"""The rating pages in-process (TestClient) on a real SQLite database: sign-in, blinding, writes, bad input, admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import re
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from evaluation.rating import Blinder, create_rating_app
from evaluation.rating.auth import resolve_secret
from evaluation.settings import EvalSettings
from tests.evaluation.rating.conftest import ADMIN_TOKEN, MODEL_MARKERS, MODELS, make_items
from tests.evaluation.rating.pages import leaked_markers, rating_form


@contextmanager
def rating_client(settings: EvalSettings, items: int = 4) -> Iterator[TestClient]:
    app = create_rating_app(settings, make_items(items))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def sign_in(client: TestClient, rater: str) -> None:
    token = client.app.state.store.issue_token(rater)
    response = client.post("/signin", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/next"


def open_next(client: TestClient):  # noqa: ANN201
    response = client.get("/next")
    assert response.status_code == 200
    return response


def stored(client: TestClient) -> list[tuple[str, str, str, float]]:
    return [(row.rater, row.unit_id, row.model, row.score) for row in client.app.state.store.score_rows()]


@pytest.fixture
def client(rating_settings: Callable[..., EvalSettings]) -> Iterator[TestClient]:
    with rating_client(rating_settings()) as client:
        yield client


def test_a_rater_rates_every_assigned_item_blind(client: TestClient) -> None:
    sign_in(client, "ann")
    seen: list[str] = []
    for position in range(1, 4):
        page = open_next(client)
        seen.append(page.text)
        assert f"Item {position} of 3" in page.text
        form = rating_form(page.text)
        assert len(form.score_fields) == 3
        assert client.post(form.action, data=form.filled(position), follow_redirects=False).status_code == 303
    done = open_next(client)
    assert "you have rated all 3" in done.text
    assert len(stored(client)) == 9 and {row[0] for row in stored(client)} == {"ann"}
    for text in [*seen, done.text]:
        assert leaked_markers(text, MODEL_MARKERS) == []
        assert "p0" not in text and "p1" not in text  # not even prompt ids


def test_no_anonymous_writes_and_no_forged_sign_in(client: TestClient) -> None:
    assert client.get("/next", follow_redirects=False).headers["location"] == "/signin"
    refused = client.post("/signin", data={"token": "not-a-token"})
    assert refused.status_code == 401 and "not valid" in refused.text
    assert client.post("/signin", data={}).status_code == 422
    sign_in(client, "ann")
    form = rating_form(open_next(client).text)
    client.cookies.clear()
    assert client.post(form.action, data=form.filled()).status_code == 401
    client.cookies.set("peptalk_rater", "forged.cookie.value")
    assert client.post(form.action, data=form.filled()).status_code == 401
    assert stored(client) == []


@pytest.mark.parametrize("bad", ["11", "-1", "7.5", "seven", "", "100"])
def test_a_score_outside_0_to_10_is_refused_and_nothing_is_stored(client: TestClient, bad: str) -> None:
    sign_in(client, "ann")
    form = rating_form(open_next(client).text)
    data = form.filled(5)
    data[form.score_fields[1]] = bad
    response = client.post(form.action, data=data)
    assert response.status_code == 422
    assert form.score_fields[1] in response.text and "Nothing was saved" in response.text
    assert stored(client) == []


def test_forged_items_slots_and_missing_fields_are_refused(client: TestClient) -> None:
    sign_in(client, "ann")
    form = rating_form(open_next(client).text)
    assert client.post("/rate/0123456789abcdef0123", data=form.filled()).status_code == 404
    assert client.get("/rate/p0").status_code == 404
    forged_slot = form.filled()
    forged_slot["score-deadbeefdeadbeef"] = forged_slot.pop(form.score_fields[0])
    assert client.post(form.action, data=forged_slot).status_code == 422
    missing = form.filled()
    del missing[form.score_fields[2]]
    assert "is missing" in client.post(form.action, data=missing).text
    no_nonce = form.filled()
    del no_nonce["nonce"]
    assert client.post(form.action, data=no_nonce).status_code == 422
    long_comment = form.filled(**{form.comment_fields[0]: "x" * 2001})
    assert client.post(form.action, data=long_comment).status_code == 422
    assert stored(client) == []
    # another rater's task id is not this rater's item
    bob_task = form.action
    sign_in(client, "bob")
    assert client.post(bob_task, data=form.filled()).status_code == 404
    assert stored(client) == []


def test_double_submit_stores_once_and_a_later_resubmit_updates(client: TestClient) -> None:
    sign_in(client, "ann")
    form = rating_form(open_next(client).text)
    for _ in range(2):
        assert client.post(form.action, data=form.filled(4), follow_redirects=False).status_code == 303
    assert sorted(score for *_, score in stored(client)) == [4.0, 4.0, 4.0]
    again = client.get(form.action)  # revisit: the form shows what was saved, with a fresh nonce
    assert again.text.count('value="4"') == 3
    refreshed = rating_form(again.text)
    assert refreshed.nonce != form.nonce
    client.post(refreshed.action, data=refreshed.filled(9, **{refreshed.comment_fields[0]: "better"}))
    rows = client.app.state.store.score_rows()
    assert len(rows) == 3 and sorted(row.score for row in rows) == [9.0, 9.0, 9.0]
    assert sorted(row.comment or "" for row in rows) == ["", "", "better"]


def test_assignment_spreads_units_over_raters(client: TestClient) -> None:
    for rater in ["ann", "bob", "cy"]:
        sign_in(client, rater)
        open_next(client)
    store = client.app.state.store
    assert [len(store.assigned_units(rater)) for rater in ["ann", "bob", "cy"]] == [3, 3, 2]
    assert sorted(store.unit_loads().values()) == [2, 2, 2, 2]
    sign_in(client, "dee")
    assert "nothing for you to rate" in open_next(client).text


def test_name_sign_in_mode(rating_settings: Callable[..., EvalSettings]) -> None:
    with rating_client(rating_settings(rating_signin="name")) as client:
        assert client.post("/signin", data={"name": "<script>"}).status_code == 422
        assert client.post("/signin", data={"name": "ann"}, follow_redirects=False).status_code == 303
        assert "Item 1 of 3" in open_next(client).text


def test_pairwise_mode_stores_the_preferred_model_and_criteria(rating_settings: Callable[..., EvalSettings]) -> None:
    settings = rating_settings(rating_mode="pairwise", rating_criteria=["clarity", "overall"])
    with rating_client(settings, items=2) as client:
        sign_in(client, "ann")
        page = open_next(client)
        assert leaked_markers(page.text, MODEL_MARKERS) == []
        form = rating_form(page.text)
        assert len(form.score_fields) == 4 and 'name="choice"' in page.text
        assert client.post(form.action, data=form.filled(6)).status_code == 422  # no choice
        assert client.post(form.action, data=form.filled(6, choice="C")).status_code == 422
        assert client.app.state.store.score_rows() == []
        assert client.post(form.action, data=form.filled(6, choice="B"), follow_redirects=False).status_code == 303
        rows = client.app.state.store.score_rows()
        assert len(rows) == 2 and all(row.criteria == {"clarity": 6, "overall": 6} for row in rows)
        unit = next(unit for unit in client.app.state.units if unit.unit_id == rows[0].unit_id)
        slots = Blinder(resolve_secret(None, settings.data_dir)).slots("ann", unit, pairwise=True)
        assert rows[0].preference == next(slot.model for slot in slots if slot.label == "B")


def test_admin_page_needs_the_admin_token_and_shows_progress(client: TestClient) -> None:
    for rater, score in [("ann", 3), ("bob", 4)]:
        sign_in(client, rater)
        for _ in range(3):
            form = rating_form(open_next(client).text)
            client.post(form.action, data=form.filled(score))
    assert client.get("/admin").status_code == 401  # a signed-in rater is not an admin
    assert client.post("/admin/signin", data={"token": "wrong"}).status_code == 401
    assert client.post("/admin/signin", data={"token": ADMIN_TOKEN}, follow_redirects=False).status_code == 303
    admin = client.get("/admin")
    assert admin.status_code == 200
    assert all(model in admin.text for model in MODELS)
    # ann gave 3 and bob 4 everywhere; they share two units: alpha = 1 - 1 / (72 / 132) by hand.
    assert re.search(r"Krippendorff's alpha \(interval\)</th><td>-0\.833</td>", admin.text.replace("&#39;", "'"))
    for model in MODELS:
        assert re.search(rf"<tr><td>{re.escape(model)}</td><td>6</td><td>3\.50</td>", admin.text)
    bearer = TestClient(client.app, base_url="http://127.0.0.1").get(
        "/admin", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    assert bearer.status_code == 200


def test_admin_page_is_off_without_an_admin_token(rating_settings: Callable[..., EvalSettings]) -> None:
    with rating_client(rating_settings(rating_admin_token=None)) as client:
        assert client.get("/admin").status_code == 403
        assert client.post("/admin/signin", data={"token": ""}).status_code == 401
