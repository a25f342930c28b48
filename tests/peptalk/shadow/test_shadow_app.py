"""Shadow traffic inside the HTTP app, with the real embedded model as the primary and fake candidates."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from router import registry
from langserve_app import create_app
from peptalk.settings import Settings
from peptalk.shadow import SqlShadowStore
from router.registry import build_backends
from tests.helpers import GENEROUS_S
from tests.peptalk.shadow.fakes import FakeBackend
from tests.peptalk.shadow.helpers import REQUEST
from tests.test_langserve_app import serving


@pytest.fixture
def with_fake_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's router also knows `fake:<behaviour>` models (the 3 s `fake:slow` among them)."""
    monkeypatch.setattr(registry, "build_backends",
                        lambda settings: {**build_backends(settings), "fake": FakeBackend(delay_s=3.0)})


def shadow_settings(make_settings: Callable[..., Settings], tmp_path: Path, candidates: str,
                    **extra: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path, "temperature": 0.0, "max_tokens": 12,
                                 "shadow_candidates": candidates,
                                 "shadow_hash_user_ids": False, "shadow_flush_interval_s": 0.1, "shadow_timeout_s": 1.0}
    return make_settings(**(values | extra))


async def invoke(client: httpx.AsyncClient, user_id: str) -> tuple[int, dict, float]:
    started = time.perf_counter()
    response = await client.post("/peptalk/invoke", json={"input": REQUEST | {"user_id": user_id}})
    return response.status_code, response.json().get("output", {}), time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.usefixtures("with_fake_backend")
async def test_failing_candidates_never_change_the_answer_or_status(make_settings: Callable[..., Settings],
                                                                      tmp_path: Path) -> None:
    plain = make_settings(data_dir=tmp_path / "plain", temperature=0.0, max_tokens=12)
    shadowed = shadow_settings(make_settings, tmp_path, "fake:raise,fake:hang,fake:garbage,fake:midstream")
    async with serving(create_app(plain)) as client:
        expected = [await invoke(client, user) for user in ("ada", "grace")]
    async with serving(create_app(shadowed)) as client:
        got = [await invoke(client, user) for user in ("ada", "grace")]
        bad_input = await client.post("/peptalk/invoke", json={"input": REQUEST | {"today": "not a date"}})
    assert [(status, output) for status, output, _ in got] == [(status, output) for status, output, _ in expected]
    assert all(status == 200 and output["text"].strip() for status, output, _ in got)
    assert bad_input.status_code == 422
    store = SqlShadowStore.from_url(shadowed.resolved_database_url())
    rows = list(store.read())
    assert sorted(row.user_id for row in rows) == ["ada", "grace"]  # logged on shutdown: the queue was drained
    assert {row.primary.response for row in rows} == {output["text"] for _, output, _ in got}
    assert all(len([call for call in row.candidates if call.error]) == 3 for row in rows)  # garbage is an answer


@pytest.mark.slow
@pytest.mark.usefixtures("with_fake_backend")
async def test_a_3s_candidate_does_not_slow_the_primary(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    off = make_settings(data_dir=tmp_path / "off", max_tokens=12)
    on = shadow_settings(make_settings, tmp_path, "fake:slow", shadow_timeout_s=10.0, shadow_max_in_flight=4)
    latencies: dict[str, list[float]] = {"off": [], "on": []}
    async with serving(create_app(off)) as plain, serving(create_app(on)) as shadowed:
        log = SqlShadowStore.from_url(on.resolved_database_url())
        await invoke(plain, "warm-up")
        await invoke(shadowed, "warm-up")
        for index in range(10):  # interleaved, so both see the same machine
            for name, client in (("off", plain), ("on", shadowed)):
                status, _, seconds = await invoke(client, f"user{index}")
                assert status == 200
                latencies[name].append(seconds)
                if name == "on":  # its pair is logged when the 3 s candidate ends: it has not ended yet
                    assert f"user{index}" not in {row.user_id for row in log.read()}
    # The overhead itself is measured in bench/shadow_overhead.py; a loaded CI machine cannot time it fairly.
    assert max(latencies["on"]) < GENEROUS_S, latencies
    rows = list(SqlShadowStore.from_url(on.resolved_database_url()).read())
    assert len(rows) == 11 and all(row.candidates[0].latency_s >= 3.0 for row in rows)  # the candidate really ran


@pytest.mark.slow
async def test_the_log_sees_cache_hits_and_candidates_skip_the_cache(make_settings: Callable[..., Settings],
                                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBackend()
    monkeypatch.setattr(registry, "build_backends", lambda settings: {**build_backends(settings), "fake": fake})
    settings = shadow_settings(make_settings, tmp_path, "fake:fast", cache_enabled=True)
    async with serving(create_app(settings)) as client:
        first = await invoke(client, "ada")
        second = await invoke(client, "ada")  # the same request again: served from the semantic cache
    assert first[0] == second[0] == 200 and second[1]["metadata"]["cache_hit"] is True
    rows = sorted(SqlShadowStore.from_url(settings.resolved_database_url()).read(), key=lambda row: row.created_at)
    assert [row.primary.cache_hit for row in rows] == [False, True]
    assert rows[1].primary.response == first[1]["text"]
    assert len(fake.calls["fast"]) == 2  # the candidate really ran both times
    assert all(row.candidates[0].cache_hit is False for row in rows)
