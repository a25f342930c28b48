"""Three real replicas behind a real nginx, on PostgreSQL and Redis: the app is stateless, and it shows (issue 19).

- a user's rate limit holds across replicas (one count in Redis, whichever replica answers);
- one erasure call, through any replica, removes the user's pairs that every replica logged;
- a replica killed with `kill -9` mid-load costs no failed idempotent request: nginx retries what it could not
  deliver, and only POSTs already inside the killed replica fail (502), as nginx must not resend a generation;
- no acknowledged shadow pair is lost: every pair a replica logged as committed is in PostgreSQL after the kill,
  and replicas stopped with SIGTERM drain, so every answer they gave has its pair.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from peptalk.shadow import ShadowPolicy, SqlShadowStore
from tests import postgres
from tests.conftest import OLLAMA_TAG
from tests.helpers import wait_for
from tests.replicas import UPSTREAM_HEADER, Deployment, deployment
from tests.test_langserve_app import REQUEST

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CANDIDATE = f"ollama:{OLLAMA_TAG}"  # never the answering model: a request is not mirrored to its own model
INCOMPLETE = {"user_id": "ada"}  # passes the rate limiter, then gets a 422: no generation needed


ADMIN_KEY = "replica-admin-key"
SALT = "replica-test-salt"


@pytest.fixture(scope="module")
def shared_deployment(postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory,
                      ollama_double: str) -> Iterator[Deployment]:
    """Three replicas for the tests that leave them running (rate limits, erasure)."""
    settings = {"PEPTALK_CACHE_ENABLED": "false", "PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE": "4",
                "PEPTALK_MAX_TOKENS": "6", "PEPTALK_EMBEDDED_THREADS": "1", "PEPTALK_SHADOW_CANDIDATES": CANDIDATE,
                "PEPTALK_BACKENDS": "embedded,ollama",
                "PEPTALK_OLLAMA_BASE_URL": ollama_double, "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG,
                "PEPTALK_SHADOW_BATCH_SIZE": "1", "PEPTALK_SHADOW_FLUSH_INTERVAL_S": "0.2",
                "PEPTALK_SHADOW_USER_ID_SALT": SALT, "PEPTALK_ADMIN_API_KEYS": ADMIN_KEY}
    with postgres.throwaway_database(postgres_url) as database_url, \
            deployment(tmp_path_factory.mktemp("replicas"), database_url=database_url, redis_url=redis_url,
                       settings=settings) as app:
        yield app


@pytest.mark.timeout(400)
def test_a_users_rate_limit_holds_across_replicas(shared_deployment: Deployment) -> None:
    with httpx.Client(base_url=shared_deployment.url, timeout=60) as client:
        responses = [client.post("/peptalk/invoke", json={"input": INCOMPLETE}) for _ in range(9)]
        statuses = [response.status_code for response in responses]
        assert statuses == [422] * 4 + [429] * 5, statuses  # 4 in all, not 4 per replica
        assert len({response.headers[UPSTREAM_HEADER] for response in responses}) == 3  # every replica answered
        refused = responses[-1]
        assert 1 <= int(refused.headers["retry-after"]) <= 60 and refused.json()["limit"] == "user"
        other = client.post("/peptalk/invoke", json={"input": INCOMPLETE | {"user_id": "grace"}})
        assert other.status_code == 422  # another user's count is their own


@pytest.mark.timeout(600)
def test_one_erasure_call_removes_the_pairs_every_replica_logged(shared_deployment: Deployment) -> None:
    database_url = shared_deployment.replicas[0].env["PEPTALK_DATABASE_URL"]
    store = SqlShadowStore.from_url(database_url)
    erin = ShadowPolicy(candidates=(CANDIDATE,), user_id_salt=SALT.encode()).stored_user_id("erin")
    try:
        with httpx.Client(base_url=shared_deployment.url, timeout=300) as client:
            served_by = set()
            for user in ["erin", "erin", "erin", "frank"]:
                response = client.post("/peptalk/invoke", json={"input": REQUEST | {"user_id": user}})
                assert response.status_code == 200, response.text
                served_by.add(response.headers[UPSTREAM_HEADER])
            assert len(served_by) == 3  # erin's pairs were logged by three different replicas
            wait_for(lambda: store.count() >= 4, timeout_s=300, interval_s=0.2, what="erin's and frank's four pairs")
            assert sorted(row.user_id == erin for row in store.read()) == [False, True, True, True]
            erased = client.delete("/admin/users/erin", headers={"X-Admin-Key": ADMIN_KEY})
            assert erased.status_code == 200, erased.text
            assert erased.json()["deleted"]["shadow_pairs"] == 3
        left = list(store.read())
        assert [row.user_id for row in left] != [] and all(row.user_id != erin for row in left)
        assert all("erin" not in repr(row.request) for row in left)
    finally:
        store.close()


@dataclass
class Outcome:
    method: str
    started: float
    status: int  # 0: no HTTP answer at all
    upstream: str
    request_id: str
    from_nginx: bool = False  # the answer is nginx's own error page, not the app's


class Kill:
    """When the victim was killed: the clients' last rounds wait for it, so some requests always come after it,
    however fast or slow the machine makes the rounds before it."""

    SETTLE_S = 1.0  # requests after this long find nginx routing around the dead replica

    def __init__(self) -> None:
        self.done = threading.Event()
        self.at = 0.0

    def record(self) -> None:
        self.at = time.monotonic()
        self.done.set()

    def wait_settled(self) -> None:
        if self.done.wait(timeout=600):
            time.sleep(max(0.0, self.at + self.SETTLE_S - time.monotonic()))


def load(url: str, worker: int, rounds: int, outcomes: list[Outcome], lock: threading.Lock,
         kill: Kill | None = None, after_kill: int = 0) -> None:
    """One client: per round a generation (POST) and a schema read (GET), each with its own request id; the last
    `after_kill` rounds start once `kill` happened and settled."""
    with httpx.Client(base_url=url, timeout=120) as client:
        for index in range(rounds):
            if kill is not None and index == rounds - after_kill:
                kill.wait_settled()
            for method, path in (("POST", "/peptalk/invoke"), ("GET", "/peptalk/input_schema")):
                request_id = f"load-{worker}-{index}-{method.lower()}-{uuid.uuid4().hex[:6]}"
                started = time.monotonic()
                body = {"input": REQUEST | {"user_id": f"user-{worker}-{index}"}} if method == "POST" else None
                try:
                    response = client.request(method, path, json=body, headers={"X-Request-ID": request_id})
                    outcome = Outcome(method, started, response.status_code,
                                      response.headers.get(UPSTREAM_HEADER, ""), request_id,
                                      from_nginx="<center>nginx" in response.text)
                except httpx.HTTPError:
                    outcome = Outcome(method, started, 0, "", request_id)
                with lock:
                    outcomes.append(outcome)


@pytest.mark.timeout(900)
def test_a_replica_killed_mid_load_costs_no_idempotent_request_and_no_acknowledged_pair(
        postgres_database: str, redis_url: str, tmp_path: Path, ollama_double: str) -> None:
    # One llama.cpp thread per replica: three replicas share this machine's two cores with whatever else runs.
    settings = {"PEPTALK_CACHE_ENABLED": "false", "PEPTALK_MAX_TOKENS": "6", "PEPTALK_EMBEDDED_THREADS": "1",
                "PEPTALK_SHADOW_DRAIN_TIMEOUT_S": "300",  # a slow, shared machine: let SIGTERM drain everything
                "PEPTALK_SHADOW_CANDIDATES": CANDIDATE, "PEPTALK_BACKENDS": "embedded,ollama",
                "PEPTALK_OLLAMA_BASE_URL": ollama_double, "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG,
                "PEPTALK_SHADOW_BATCH_SIZE": "2",
                "PEPTALK_SHADOW_FLUSH_INTERVAL_S": "0.2", "PEPTALK_SHADOW_USER_ID_SALT": "replica-test-salt",
                "PEPTALK_RATE_LIMIT_PER_KEY_PER_MINUTE": "100000", "PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE": "100"}
    workers, rounds, after_kill_rounds = 3, 8, 2
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    kill = Kill()
    with deployment(tmp_path, database_url=postgres_database, redis_url=redis_url, settings=settings) as app:
        victim, survivors = app.replicas[0], app.replicas[1:]
        threads = [threading.Thread(target=load, args=(app.url, worker, rounds, outcomes, lock, kill,
                                                       after_kill_rounds)) for worker in range(workers)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 300
        # Kill once a third of the generations are answered and the victim has committed a pair (its candidate
        # calls run after its answers, so on a loaded machine its first commit can come later than that third).
        while time.monotonic() < deadline:
            with lock:
                answered_posts = sum(1 for outcome in outcomes if outcome.method == "POST")
            if answered_posts >= workers * rounds // 3 and victim.committed_pair_ids():
                break
            time.sleep(0.05)
        victim.kill()
        kill.record()
        killed_at = kill.at
        for thread in threads:
            thread.join(timeout=600)
        assert not any(thread.is_alive() for thread in threads), "the bounded load did not finish"
        # SIGTERM the survivors now: a graceful stop drains the shadow queue and commits. (uvicorn re-raises
        # the signal after its shutdown, so the exit status is -15; the log says whether the lifespan finished.)
        assert [replica.stop(timeout_s=400) for replica in survivors] == [-15, -15]
        for replica in survivors:
            log = replica.log.read_text(errors="replace")
            assert "Application shutdown complete" in log and "shadow drain timed out" not in log
        acknowledged = set().union(*(replica.committed_pair_ids() for replica in app.replicas))
        acknowledged_by_victim = victim.committed_pair_ids()

    gets = [outcome for outcome in outcomes if outcome.method == "GET"]
    posts = [outcome for outcome in outcomes if outcome.method == "POST"]
    assert len(gets) == len(posts) == workers * rounds
    assert Counter(outcome.status for outcome in gets) == Counter({200: len(gets)})  # no idempotent request failed
    failed_posts = [outcome for outcome in posts if outcome.status != 200]
    # Only generations already inside the killed replica may fail, with nginx's 502: at most one per client.
    assert len(failed_posts) <= workers, failed_posts
    assert all(outcome.status == 502 and outcome.started < killed_at and outcome.from_nginx
               for outcome in failed_posts), failed_posts
    after_kill = [outcome for outcome in outcomes if outcome.started > killed_at + 0.5]  # 2 rounds per client
    assert after_kill and all(outcome.status == 200 for outcome in after_kill)
    assert not any(outcome.upstream.endswith(victim.address) for outcome in after_kill)

    store = SqlShadowStore.from_url(postgres_database)
    try:
        stored = list(store.read())
    finally:
        store.close()
    stored_pairs = {row.pair_id for row in stored}
    stored_requests = {row.request_id for row in stored}
    assert acknowledged <= stored_pairs, f"acknowledged but lost: {sorted(acknowledged - stored_pairs)}"
    assert acknowledged_by_victim, "the killed replica had committed nothing; the test proved nothing about it"
    # Answers of the gracefully stopped replicas all have their pair (drained at SIGTERM).
    served_by_survivors = {outcome.request_id for outcome in posts if outcome.status == 200
                           and not outcome.upstream.endswith(victim.address)}
    assert served_by_survivors <= stored_requests, sorted(served_by_survivors - stored_requests)
