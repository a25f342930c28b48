"""The rollout end to end over HTTP, with real parts: GPT-4 is the llama.cpp OpenAI server, the candidate the
Ollama double, the judge the OpenAI-protocol judge double; a real uvicorn app applies the stage from SQLite."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from peptalk.cli import app as cli
from peptalk.rollout.assign import serves_candidate
from peptalk.rollout.store import RolloutStore
from peptalk.shadow.store import shadow_calls, shadow_pairs
from tests.conftest import OLLAMA_TAG, OPENAI_ALIAS, start_ollama_double
from tests.doubles.judge_openai import JudgeDouble, always, prefer
from tests.peptalk.rollout.apps import JudgeLoop, app_env, app_process, invoke, status
from tests.peptalk.rollout.helpers import make_plan

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
CANDIDATE, PRIMARY = f"ollama:{OLLAMA_TAG}", f"openai:{OPENAI_ALIAS}"
BATCH = 4
runner = CliRunner()


@pytest.fixture
def candidate_server(gguf_path: Path) -> Iterator[tuple[str, object]]:
    """A fresh Ollama double for one test (so a test may kill it); yields its URL and process."""
    port, server = start_ollama_double(gguf_path, tags=[OLLAMA_TAG], name="rollout-candidate")
    with server as process:
        yield f"http://127.0.0.1:{port}", process


@pytest.fixture(scope="module")
def judge() -> Iterator[JudgeDouble]:
    with JudgeDouble(model="judge") as double:
        yield double


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RolloutStore]:
    rollout_store = RolloutStore.from_url(f"sqlite:///{tmp_path / 'peptalk.db'}")
    rollout_store.migrate()
    yield rollout_store
    rollout_store.close()


def plan(**overrides: object):  # noqa: ANN201
    # No latency gate here: on a shared 2-core machine the two servers' latencies are noise (test_controller
    # covers the latency gate); quality, consistency and errors gate these runs.
    base = {"judge": {"model": "openai:judge", "sample_rate": 1.0, "max_calls_per_hour": 10_000,
                      "max_usd_per_day": 5}, "evaluation_interval_s": 1.0,
            "gates": {"win_or_tie_lower_bound": 0.45, "consistency_min": 0.5, "p95_latency_ratio_max": None,
                      "error_rate_max": 0.05, "timeout_rate_max": 0.05, "min_calls": 3}}
    return make_plan(**{**base, **overrides})


def test_a_candidate_judged_no_worse_advances_to_100_percent(openai_server: str, candidate_server, judge: JudgeDouble,
                                                             store: RolloutStore, tmp_path: Path) -> None:
    """Shadow advances by itself; later stages ask for `peptalk rollout approve`, which holds each stage still
    while its users are counted (the model calls are slow on a shared 2-core machine)."""
    judge.decide = always("Both are equally warm and specific.\nChoice: 3")
    stages = [{"name": "shadow", "share": 0.0, "min_judged_pairs": 3, "min_duration_s": 0}] + [
        {"name": name, "share": share, "min_judged_pairs": 3, "min_duration_s": 0, "approval": True}
        for name, share in (("canary-5", 0.05), ("25", 0.25), ("50", 0.5), ("all", 1.0))]
    rollout = store.create(plan(stages=stages), actor="operator", reason="e2e")
    salt = rollout.plan.assignment_salt
    env = app_env(openai_server=openai_server, ollama_url=candidate_server[0], database_url=str(store.engine.url),
                  data_dir=tmp_path)
    served: dict[str, Counter[str]] = {}
    with app_process(env, "advance") as url, httpx.Client() as client, JudgeLoop(store, judge):
        deadline = time.monotonic() + 480
        round_number = 0
        while time.monotonic() < deadline:
            before = status(client, url)
            users = [f"user-{round_number}-{index}" for index in range(BATCH)]
            answers = {user: invoke(client, url, user) for user in users}
            after = status(client, url)
            round_number += 1
            stage, share = before["applied_here"]["stage"], before["applied_here"]["share"]
            if after["applied_here"]["stage"] == stage:  # no rollbacks here, so every request saw this stage
                for user, output in answers.items():
                    expected = CANDIDATE if serves_candidate(user, share, salt) else PRIMARY
                    assert output["model"] == expected, (user, before["applied_here"], output)  # sticky, as assigned
                    served.setdefault(stage, Counter())[output["model"]] += 1
            if stage == "all" and stage in served:
                break
            while after["rollout"]["status"] == "active" and after["applied_here"]["stage"] == stage != "shadow" \
                    and time.monotonic() < deadline:
                time.sleep(0.5)  # the controller sees the pairs judged, then waits for approval
                after = status(client, url)
            if after["rollout"]["status"] == "awaiting_approval" and after["applied_here"]["stage"] in served:
                result = runner.invoke(cli, ["rollout", "approve", "--reason", "e2e", "--database-url",
                                             str(store.engine.url)])
                assert result.exit_code == 0, result.output
                while status(client, url)["applied_here"]["stage"] == after["applied_here"]["stage"]:
                    time.sleep(0.1)  # the app applies the new stage within its refresh interval
    assert list(served) == ["shadow", "canary-5", "25", "50", "all"], (served, after["rollout"]["notes"],
                                                                        after["rollout"]["gates"])
    for stage in rollout.plan.stages:
        counts = served[stage.name]
        total = sum(counts.values())
        tolerance = 4 * (stage.share * (1 - stage.share) / total) ** 0.5 + 1 / total
        assert abs(counts[CANDIDATE] / total - stage.share) <= tolerance, (stage.name, counts)
    history = store.history(rollout.id)
    assert [(t.kind, t.to_stage) for t in history] == [
        ("start", "shadow"), ("advance", "canary-5"),
        ("gates_passed", "canary-5"), ("approve", "25"), ("gates_passed", "25"), ("approve", "50"),
        ("gates_passed", "50"), ("approve", "all")]
    for transition in history[1:]:
        assert transition.evidence["evidence"]["win_or_tie_lower_bound"] >= 0.45  # stored with its evidence
    # At 100% the primary still answers a mirrored share, so evidence keeps flowing.
    with store.engine.connect() as connection:
        latest = connection.execute(select(shadow_calls.c.model).join(shadow_pairs)
                                    .where(shadow_calls.c.position == 1)
                                    .order_by(shadow_pairs.c.created_at.desc()).limit(1)).scalar()
    assert latest == PRIMARY


def test_a_failing_candidate_is_rolled_back_at_once_and_no_request_fails(
        openai_server: str, candidate_server, judge: JudgeDouble, store: RolloutStore, tmp_path: Path) -> None:
    judge.decide = always("Choice: 3")
    rollout = store.create(plan(), actor="operator", reason="e2e")
    rollout = store.transition(rollout, kind="approve", to_stage=2, status="active", actor="operator",
                               reason="mid-canary")
    salt = rollout.plan.assignment_salt
    candidate_users = [user for user in (f"u{index}" for index in range(400)) if serves_candidate(user, 0.25, salt)]
    env = app_env(openai_server=openai_server, ollama_url=candidate_server[0], database_url=str(store.engine.url),
                  data_dir=tmp_path)
    with app_process(env, "rollback") as url, httpx.Client() as client:
        assert status(client, url)["applied_here"]["stage"] == "25"
        for user in candidate_users[:3]:
            assert invoke(client, url, user)["model"] == CANDIDATE
        candidate_server[1].terminate()  # the candidate dies mid-canary
        candidate_server[1].wait(10)
        killed = time.monotonic()
        outputs = []
        rolled_back = None
        for user in candidate_users[3:40]:
            outputs.append(invoke(client, url, user))  # 200 every time: the primary answers instead
            rolled_back = next((t for t in store.history(rollout.id) if t.kind == "rollback"), None)
            if rolled_back is not None:
                break
        assert rolled_back is not None, "no rollback after the candidate failed"
        took = time.monotonic() - killed
        assert {output["model"] for output in outputs} == {PRIMARY}
        assert (rolled_back.actor, rolled_back.to_stage) == ("controller", "shadow")  # hard failure: 0%
        assert "error_rate_max" in rolled_back.reason
        recent = rolled_back.evidence["recent"]
        assert recent["candidate_calls"] >= rollout.plan.gates.min_calls
        assert recent["error_rate_lower_bound"] > rollout.plan.gates.error_rate_max
        # Within one evaluation interval once the evidence is there (generous bound for a shared machine).
        with store.engine.connect() as connection:
            error_times = sorted(connection.scalars(
                select(shadow_pairs.c.created_at).join(shadow_calls)
                .where(shadow_calls.c.model == CANDIDATE, shadow_calls.c.error.is_not(None))))
        enough = error_times[recent["candidate_errors"] - 1].replace(tzinfo=dt.timezone.utc)  # the deciding error
        lag = (rolled_back.at - enough).total_seconds()
        assert lag <= rollout.plan.evaluation_interval_s + 5, lag
        deadline = time.monotonic() + 10
        while status(client, url)["applied_here"]["share"] != 0.0:
            assert time.monotonic() < deadline, "the rollback did not reach the app"
            time.sleep(0.1)
        for user in candidate_users[40:43]:
            assert invoke(client, url, user)["model"] == PRIMARY
    print(f"rollback {took:.1f} s after the candidate died; {lag:.2f} s after the evidence sufficed")


def test_a_candidate_judged_worse_never_leaves_shadow(openai_server: str, candidate_server, judge: JudgeDouble,
                                                      store: RolloutStore, tmp_path: Path) -> None:
    def model_of(text: str) -> str | None:
        with store.engine.connect() as connection:
            return connection.scalar(select(shadow_calls.c.model).where(shadow_calls.c.response == text).limit(1))

    judge.decide = prefer(model_of, PRIMARY)
    rollout = store.create(plan(), actor="operator", reason="e2e")
    env = app_env(openai_server=openai_server, ollama_url=candidate_server[0], database_url=str(store.engine.url),
                  data_dir=tmp_path)
    with app_process(env, "worse") as url, httpx.Client() as client, JudgeLoop(store, judge) as loop:
        for index in range(14):
            assert invoke(client, url, f"w{index}")["model"] == PRIMARY
        deadline = time.monotonic() + 120
        while len([v for v in store.verdicts(CANDIDATE) if v.outcome]) < 10 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2 * rollout.plan.evaluation_interval_s)
        report = status(client, url)["rollout"]
    assert loop.judged >= 10
    assert report["stage"] == "shadow" and report["evidence"]["losses"] >= 8
    assert report["evidence"]["win_or_tie_upper_bound"] < 0.45
    assert [t.kind for t in store.history(rollout.id)] == ["start"]
