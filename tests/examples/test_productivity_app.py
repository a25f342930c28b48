"""The example backend (examples/productivity_app) on a real uvicorn: peptalk in-process, and peptalk as a service."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from examples.productivity_app.models import Task, User, make_engine
from examples.productivity_app.morning import write_pep_talks
from examples.productivity_app.pep_talks import pep_talk_request
from peptalk import Settings
from tests.conftest import ARTIFACTS
from tests.helpers import ROOT, free_port, python, running

EMBEDDED = "embedded:smollm2-135m"
# Generous time limits: the shared 2-core machine may be slow, which is not what these tests are about.
PEPTALK_ENV = {"PEPTALK_MAX_TOKENS": "24", "PEPTALK_LOG_LEVEL": "WARNING", "PEPTALK_CACHE_ENABLED": "false",
               "PEPTALK_REQUEST_TIMEOUT_S": "600", "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "600",
               "PEPTALK_REQUEST_DEADLINE_S": "900"}


def test_the_request_is_built_from_the_users_own_tasks(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    today, last_login = dt.date(2026, 11, 26), dt.date(2026, 11, 24)
    with Session(engine) as db:
        ada, bob = User(name="ada", token="a", last_login=last_login), User(name="bob", token="b")
        db.add_all([ada, bob])
        db.flush()
        db.add_all([
            Task(user_id=ada.id, title="Paid the rent", kind="task", done_on=dt.date(2026, 11, 25)),
            Task(user_id=ada.id, title="Filed taxes", kind="task", done_on=dt.date(2026, 11, 1)),  # before last login
            Task(user_id=ada.id, title="Write the design doc", kind="focus"),
            Task(user_id=ada.id, title="Shipped the beta", kind="focus", done_on=last_login),
            Task(user_id=ada.id, title="Morning run", kind="ritual"),
            Task(user_id=ada.id, title="Read 3 books", kind="goal"),
            Task(user_id=bob.id, title="Bob's own task", kind="focus"),
        ])
        db.commit()
        request = pep_talk_request(db, ada, today)
        first_visit = pep_talk_request(db, bob, today)
    assert request.user_id == f"user-{ada.id}" and request.today == today and request.last_login == last_login
    assert request.completed_tasks == ["Paid the rent", "Shipped the beta"]
    assert request.focused_tasks == ["Write the design doc"]
    assert (request.rituals, request.goals) == (["Morning run"], ["Read 3 books"])
    assert first_visit.last_login == today and first_visit.focused_tasks == ["Bob's own task"]


@pytest.mark.slow
def test_a_morning_job_writes_every_users_pep_talk_in_process_from_sync_code(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    with Session(make_engine(database_url)) as db:
        db.add_all([User(name="ada", token="a", tasks=[Task(title="Write the design doc", kind="focus")]),
                    User(name="bob", token="b", tasks=[Task(title="Morning run", kind="ritual")])])
        db.commit()
    settings = Settings(_env_file=None, max_tokens=24, log_level="WARNING", data_dir=tmp_path, cache_enabled=False,
                        first_token_timeout_s=600, request_timeout_s=600, request_deadline_s=900)
    answers = write_pep_talks(database_url, settings=settings, today=dt.date(2026, 11, 26))
    assert sorted(answers) == ["ada", "bob"]
    assert all(answer.model == EMBEDDED and answer.text.strip() for answer in answers.values())


def test_importing_and_including_peptalk_leaves_the_global_metrics_registry_alone(tmp_path: Path) -> None:
    script = (
        "from prometheus_client import REGISTRY, generate_latest\n"
        "from examples.productivity_app import create_app\n"
        f"create_app('sqlite:///{tmp_path / 'app.db'}')\n"
        "text = generate_latest(REGISTRY).decode()\n"
        "assert 'python_info' in text and 'peptalk_' not in text, text\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                               **PEPTALK_ENV, "PEPTALK_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-3000:]


def example(tmp_path: Path, *extra: str, env: dict[str, str]) -> tuple[str, AbstractContextManager[object]]:
    port = free_port()
    cmd = [python(), "-m", "examples.productivity_app", "--database-url", f"sqlite:///{tmp_path / 'app.db'}",
           "--port", str(port), *extra]
    return f"http://127.0.0.1:{port}", running(cmd, f"http://127.0.0.1:{port}/docs", env=env, timeout_s=300,
                                               log=ARTIFACTS / f"productivity-app-{port}.log")


def a_users_day(client: httpx.Client) -> dict[str, str]:
    """Signs a user up, adds their tasks and finishes one; returns their sign-in header."""
    signed_up = client.post("/users", json={"name": "ada"})
    assert signed_up.status_code == 201, signed_up.text
    headers = {"Authorization": f"Bearer {signed_up.json()['token']}"}
    for title, kind in (("Pay the rent", "task"), ("Write the design doc", "focus"), ("Morning run", "ritual"),
                        ("Ship the beta", "goal")):
        assert client.post("/tasks", json={"title": title, "kind": kind}, headers=headers).status_code == 201
    assert client.post("/tasks/1/done", headers=headers).status_code == 200
    return headers


@pytest.mark.slow
def test_the_backend_calls_peptalk_in_process(tmp_path: Path) -> None:
    url, server = example(tmp_path, env={**PEPTALK_ENV, "PEPTALK_DATA_DIR": str(tmp_path / "peptalk")})
    with server, httpx.Client(base_url=url, timeout=300) as client:
        headers = a_users_day(client)
        assert client.get("/pep-talk").status_code == 401
        pep_talk = client.get("/pep-talk", headers=headers)
        direct = client.post("/ai/peptalk/invoke", headers=headers,
                             json={"input": {"user_id": "ada", "today": "2026-11-26", "last_login": "2026-11-25"}})
        refused = client.post("/ai/peptalk/invoke", json={"input": {}})
        ready = client.get("/ai/readyz", headers=headers)
    assert pep_talk.status_code == 200, pep_talk.text
    assert pep_talk.json()["model"] == EMBEDDED and pep_talk.json()["text"].strip()
    assert direct.status_code == 200 and direct.json()["output"]["model"] == EMBEDDED
    assert refused.status_code == 401  # the app's own sign-in guards peptalk's endpoints
    assert ready.status_code == 200


@pytest.fixture
def peptalk_service(tmp_path: Path) -> Iterator[str]:
    """The standalone peptalk service (`uvicorn langserve_app:create_app --factory`) on 127.0.0.1."""
    port = free_port()
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    env = {**PEPTALK_ENV, "PEPTALK_DATA_DIR": str(tmp_path / "service")}
    with running(cmd, f"http://127.0.0.1:{port}/healthz", env=env, timeout_s=300, log=ARTIFACTS / "peptalk-service.log"):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.slow
def test_the_backend_calls_the_peptalk_service_through_remote_runnable(tmp_path: Path, peptalk_service: str) -> None:
    url, server = example(tmp_path, "--peptalk-url", peptalk_service, env={})
    with server, httpx.Client(base_url=url, timeout=300) as client:
        headers = a_users_day(client)
        pep_talk = client.get("/pep-talk", headers=headers)
        no_plugin = client.post("/ai/peptalk/invoke", headers=headers, json={"input": {}})
    assert pep_talk.status_code == 200, pep_talk.text
    assert pep_talk.json()["model"] == EMBEDDED and pep_talk.json()["text"].strip()
    assert no_plugin.status_code == 404  # in this mode the backend serves no peptalk endpoints itself
    served = httpx.get(f"{peptalk_service}/metrics").text
    assert f'peptalk_requests_total{{model="{EMBEDDED}",route="/peptalk/invoke",status="200"}} 1.0' in served
