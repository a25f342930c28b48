"""The admin routes in-process: the admin key, the JSON status, the page, and the Prometheus gauges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from peptalk.rollout.store import RolloutStore
from peptalk.shadow import SqlShadowStore
from tests.peptalk.assemblies import ASSEMBLIES, assemble
from tests.peptalk.rollout.helpers import judged_pairs, make_plan, store_pair, store_tally

KEY = "admin-key"


def build(make_settings, tmp_path: Path, **overrides: object):  # noqa: ANN001, ANN201
    return build_as("standalone", make_settings, tmp_path, **overrides)[::2]


def build_as(kind: str, make_settings, tmp_path: Path, **overrides: object):  # noqa: ANN001, ANN201
    """The app (standalone, or a host with `include_peptalk`), its database URL, and its client's base URL."""
    url = f"sqlite:///{tmp_path / 'peptalk.db'}"
    values = {"backends": ["openai", "ollama"], "openai_base_url": "http://127.0.0.1:9/v1", "openai_api_key": "k",
              "openai_models": ["gpt-4"], "ollama_base_url": "http://127.0.0.1:9", "default_model": "openai:gpt-4",
              "cache_enabled": False, "database_url": url, "rollout_enabled": True,
              "rollout_refresh_interval_s": 0.1, "admin_api_keys": [KEY]}
    settings = make_settings(**{**values, **overrides})
    assembled = assemble(kind, settings)
    return assembled.app, f"http://testserver{assembled.prefix}", url


def seed(url: str) -> None:
    store = RolloutStore.from_url(url)
    store.migrate()
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    rollout = store.create(make_plan(), actor="operator", reason="seed", now=start)
    shadow = SqlShadowStore(store.engine)
    judged_pairs(shadow, store, 6, at=start + dt.timedelta(minutes=1), outcome="win")
    store.transition(rollout, kind="advance", to_stage=1, status="active", actor="controller", reason="gates",
                     now=start + dt.timedelta(minutes=2))
    judged_pairs(shadow, store, 5, at=start + dt.timedelta(minutes=4), outcome="tie", candidate_served=True)
    store_pair(shadow, at=start + dt.timedelta(minutes=5), candidate_error="AllBackendsFailed: refused")
    store_tally(store, at=start + dt.timedelta(minutes=5), calls=20, errors=1)
    store.close()


@pytest.mark.parametrize("kind", ASSEMBLIES)
def test_the_admin_routes_need_the_admin_key(kind: str, make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    app, base_url, url = build_as(kind, make_settings, tmp_path)
    seed(url)
    with TestClient(app, base_url=base_url) as client:
        assert client.get("/rollout/status.json").status_code == 401
        assert client.get("/rollout", headers={"X-Admin-Key": "wrong"}).status_code == 401
        response = client.get("/rollout/status.json", headers={"X-Admin-Key": KEY})
        assert response.status_code == 200
        body = response.json()
        assert body["applied_here"]["stage"] == "canary-5" and body["applied_here"]["share"] == 0.05
        report = body["rollout"]
        assert report["stage"] == "canary-5" and report["evidence"]["judged_pairs"] == 5
        assert report["evidence"]["error_rate"] > 0 and report["recent"]["pairs"] == 0  # older than window_s
        assert {gate["name"] for gate in report["gates"]} >= {"preference_share", "error_rate_max"}
        assert report["stalled"] is False and report["evidence_age_s"] >= 0
        ready = client.get("/readyz").json()
        assert ready["rollout"]["state"] == "applied" and ready["rollout"]["stage"] == "canary-5"
        page = client.get("/rollout", headers={"X-Admin-Key": KEY})
        assert page.status_code == 200 and "<svg" in page.text and "canary-5" in page.text
        metrics = client.get("/metrics").text
        assert 'peptalk_rollout_stage_share{candidate="ollama:starling-lm:7b"} 0.05' in metrics


@pytest.mark.parametrize("kind", ASSEMBLIES)
def test_no_admin_key_configured_is_403_and_rollout_off_is_404(kind: str, make_settings,  # noqa: ANN001
                                                               tmp_path: Path) -> None:
    app, base_url, _ = build_as(kind, make_settings, tmp_path, admin_api_keys=[])
    with TestClient(app, base_url=base_url) as client:
        response = client.get("/rollout/status.json", headers={"X-Admin-Key": "anything"})
        assert response.status_code == 403 and "PEPTALK_ADMIN_API_KEYS" in response.json()["detail"]
    app, base_url, _ = build_as(kind, make_settings, tmp_path, rollout_enabled=False)
    with TestClient(app, base_url=base_url) as client:
        assert client.get("/rollout/status.json", headers={"X-Admin-Key": KEY}).status_code == 404


def test_the_controller_in_the_app_exports_the_evidence_gauges(make_settings, tmp_path: Path) -> None:  # noqa: ANN001
    import time

    app, url = build(make_settings, tmp_path)
    seed(url)
    with TestClient(app) as client:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            metrics = client.get("/metrics").text
            if 'peptalk_rollout_evidence{candidate="ollama:starling-lm:7b",metric="judged_pairs"}' in metrics:
                break
            time.sleep(0.2)
        assert 'metric="preference_lower_bound"' in metrics and "peptalk_rollout_evidence_stalled" in metrics
