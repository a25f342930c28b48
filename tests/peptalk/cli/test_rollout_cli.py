"""`peptalk rollout ...` on a real database (SQLite and PostgreSQL): the happy path, and exit 2 naming the key for
a bad plan or a command that does not fit the rollout's state, with nothing lost."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evaluation.settings import get_eval_settings
from peptalk.cli import app
from peptalk.db import sqlite_url
from peptalk.rollout.store import RolloutStore
from peptalk.settings import get_settings
from peptalk.shadow import SqlShadowStore
from tests.peptalk.rollout.helpers import judged_pairs, plan_data, store_tally

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = sqlite_url(tmp_path / "peptalk.db") if request.param == "sqlite" else request.getfixturevalue(
        "postgres_database")
    for name, value in {"PEPTALK_DATABASE_URL": url, "PEPTALK_BACKENDS": "openai,ollama",
                        "PEPTALK_OPENAI_MODELS": "gpt-4,judge", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4",
                        "PEPTALK_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_eval_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    get_eval_settings.cache_clear()


def rollout(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["rollout", *args])
    return result.exit_code, result.output


def write_plan(path: Path, **overrides: object) -> Path:
    path.write_text(yaml.safe_dump(plan_data(**overrides)))
    return path


def test_start_status_pause_resume_rollback_history(database_url: str, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.yaml")
    code, out = rollout("start", str(plan))
    assert code == 0, out
    assert "started at stage shadow" in out
    store = RolloutStore.from_url(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    judged_pairs(SqlShadowStore(store.engine), store, 12, at=now, outcome="win")
    store_tally(store, at=now, calls=300)
    code, out = rollout("status", "--json")
    report = json.loads(out)["rollout"]
    assert code == 0 and report["stage"] == "shadow" and report["evidence"]["judged_pairs"] == 12
    assert report["next"]["action"] == "advance"
    code, out = rollout("status")
    assert code == 0 and "preference_lower_bound" in out and "next: advance" in out
    assert rollout("run", "--once")[1].startswith("advance: shadow -> canary-5")
    assert rollout("pause", "--reason", "weekend")[0] == 0
    assert rollout("resume")[0] == 0
    code, out = rollout("rollback", "--reason", "drill")
    assert code == 0 and "stage shadow" in out and "rolled_back" in out
    code, out = rollout("history")
    kinds = [line.split()[2] for line in out.splitlines()]
    assert kinds == ["start", "advance", "pause", "resume", "rollback"]
    history = json.loads(rollout("history", "--json")[1])
    assert history[1]["evidence"]["evidence"]["judged_pairs"] == 12  # the evidence that caused the advance
    assert history[3]["at"] > history[1]["at"]  # resume restarted the stage clock
    assert store.current().stage_entered_at >= dt.datetime.fromisoformat(history[3]["at"])
    store.close()


def test_start_warns_when_the_judge_is_the_primary(database_url: str, tmp_path: Path) -> None:
    code, out = rollout("start", str(write_plan(tmp_path / "plan.yaml", judge={"model": "openai:gpt-4"})))
    assert code == 0 and "warning: judge.model is the primary" in out and "self-preference" in out


@pytest.mark.parametrize(("change", "key"), [
    ({"stages": [{"name": "shadow", "share": 0}, {"name": "all", "share": 1.5}]}, "stages.1.share"),
    ({"window_s": "soon"}, "window_s"),
    ({"candidate": "ollama:not-configured"}, "candidate"),
    ({"judge": {"model": "openai:gpt-5"}}, "judge.model"),
])
def test_a_bad_plan_exits_2_naming_the_key_and_keeps_the_running_rollout(database_url: str, tmp_path: Path,
                                                                          change: dict, key: str) -> None:
    assert rollout("start", str(write_plan(tmp_path / "good.yaml")))[0] == 0
    code, out = rollout("start", "--replace", str(write_plan(tmp_path / "bad.yaml", **change)))
    assert code == 2
    assert key in out
    store = RolloutStore.from_url(database_url)
    current = store.current()
    assert current is not None and current.plan.candidate == "ollama:starling-lm:7b"  # nothing lost
    assert [t.kind for t in store.history()] == ["start"]
    store.close()


def test_commands_that_do_not_fit_exit_2(database_url: str, tmp_path: Path) -> None:
    code, out = rollout("approve")
    assert code == 2 and "no rollout in progress" in out
    assert rollout("start", str(tmp_path / "missing.yaml"))[0] == 2
    assert rollout("start", str(write_plan(tmp_path / "plan.yaml")))[0] == 0
    code, out = rollout("start", str(tmp_path / "plan.yaml"))
    assert code == 2 and "--replace" in out
    code, out = rollout("approve")
    assert code == 2 and "nothing to approve" in out
    code, out = rollout("rollback", "--to", "nowhere")
    assert code == 2 and "--to" in out and "nowhere" in out
    code, out = rollout("resume")
    assert code == 2 and "cannot resume" in out
    assert rollout("frobnicate")[0] == 2
    assert rollout("status", "--bogus")[0] == 2
