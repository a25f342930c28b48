"""peptalk inside a host FastAPI app on a real uvicorn: `include_peptalk`, and `create_app()` mounted as a sub-app.

The host has its own routes, lifespan, authentication, logging and metrics; peptalk must serve under `/ai`
behind the host's authentication, start and stop with the host, and leave the rest of the host alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, generate_latest

from langserve_app import create_app
from peptalk import PepTalk, Settings, include_peptalk
from peptalk.errors import MetricsClash
from peptalk.metrics import REGISTRY
from peptalk.plugin import MOUNTED, NOT_STARTED
from peptalk.shadow import SqlShadowStore
from peptalk.shadow.layer import ShadowLayer
from router import registry
from router.registry import build_backends
from tests.helpers import free_port
from tests.peptalk.shadow.fakes import FakeBackend
from tests.test_langserve_app import REQUEST, sse_events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
EMBEDDED = "embedded:smollm2-135m"
# Generous time limits: the shared 2-core machine may be slow, which is not what these tests are about.
PATIENT = {"request_timeout_s": 600.0, "first_token_timeout_s": 600.0, "request_deadline_s": 900.0}
TOKEN = {"x-token": "host-secret"}


@asynccontextmanager
async def uvicorn_serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a real uvicorn on 127.0.0.1, in this process and loop, lifespan on; yields its base URL."""
    import uvicorn

    port = free_port()
    # log_config=None: uvicorn leaves the process's logging as the host configured it.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started serving")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=120)


class Records(logging.Handler):
    """A logging handler that keeps what it gets (the host's own logging set-up, in these tests)."""

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Host:
    """A host backend: its own lifespan, token check, route and Prometheus registry, with peptalk under /ai."""

    def __init__(self, settings: Settings, *, share_registry: bool = False) -> None:
        self.events: list[str] = []
        self.registry = CollectorRegistry()
        self.hits = Counter("host_hits_total", "Host route calls", registry=self.registry)
        self.app = FastAPI(title="host", lifespan=self.lifespan)

        def require_token(x_token: str | None = Header(default=None)) -> None:
            if x_token != TOKEN["x-token"]:
                raise HTTPException(401, "host says: sign in first")

        @self.app.get("/hello")
        async def hello(request: Request) -> dict[str, Any]:
            self.hits.inc()
            return {"hello": request.state.greeting}

        @self.app.get("/metrics")
        async def host_metrics() -> Response:
            return Response(generate_latest(self.registry), media_type="text/plain")

        self.peptalk = include_peptalk(self.app, "/ai", settings=settings, dependencies=[Depends(require_token)],
                                       registry=self.registry if share_registry else None)

    @asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[dict[str, str]]:
        self.events.append(f"host start, peptalk started={self.peptalk.started}")
        yield {"greeting": "from the host's lifespan state"}
        self.events.append(f"host stop, peptalk started={self.peptalk.started}")


@pytest.fixture
def settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    return make_settings(data_dir=tmp_path, cache_enabled=False, **PATIENT)


def tokens_out() -> float:
    return REGISTRY.get_sample_value("peptalk_tokens_total", {"model": EMBEDDED, "direction": "out"}) or 0.0


def remote(url: str, **headers: str) -> Any:
    from langserve import RemoteRunnable

    return RemoteRunnable(f"{url}/ai/peptalk/", timeout=120, headers=headers)


async def test_a_host_serves_peptalk_under_ai_started_and_stopped_by_its_lifespan(settings: Settings) -> None:
    host = Host(settings)
    async with uvicorn_serving(host.app) as url:
        assert host.events == ["host start, peptalk started=True"]  # peptalk is up before the host's own start-up
        chain = remote(url, **TOKEN)
        answer = await chain.ainvoke(REQUEST)
        assert answer["text"].strip() and answer["model"] == EMBEDDED
        answers = await chain.abatch([REQUEST, REQUEST | {"user_id": "grace"}])
        assert [item["model"] for item in answers] == [EMBEDDED, EMBEDDED]
        chunks = [chunk async for chunk in chain.astream(REQUEST | {"user_id": "streamer"})]
        assert chunks[0]["model"] == EMBEDDED and sum(1 for chunk in chunks if chunk.get("text")) >= 2
        async with httpx.AsyncClient(base_url=url, headers=TOKEN, timeout=120) as client:
            hello = await client.get("/hello")
            ready = await client.get("/ai/readyz")
            models = await client.get("/ai/models")
            metrics = await client.get("/ai/metrics")
            playground = await client.get("/ai/peptalk/playground/index.html")
            openapi = await client.get("/openapi.json")
            stream = await client.post("/ai/peptalk/stream", json={"input": REQUEST})
            bad = await client.post("/ai/peptalk/batch", json={"inputs": [REQUEST | {"today": "someday"}]})
            unknown = await client.post("/ai/peptalk/invoke",
                                        json={"input": REQUEST, "config": {"configurable": {"model": "openai:gpt-5"}}})
    assert hello.json() == {"hello": "from the host's lifespan state"}  # the host's own lifespan still ran
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert models.json()["default"] == EMBEDDED
    assert 'route="/ai/peptalk/invoke"' in metrics.text
    assert playground.status_code == 200 and "<html" in playground.text.lower()
    assert {"/hello", "/ai/peptalk/invoke", "/ai/readyz"} <= set(openapi.json()["paths"])  # the host's docs list both
    assert stream.status_code == 200 and sse_events(stream.text)[-1][0] == "end"
    assert stream.headers["x-request-id"]
    assert bad.status_code == 422 and "today" in bad.text  # peptalk's error answer, without the host's handlers
    assert unknown.status_code == 422 and "model" in unknown.text
    assert host.events == ["host start, peptalk started=True", "host stop, peptalk started=True"]
    assert not host.peptalk.started  # stopped after the host's own shutdown code


async def test_requests_without_the_hosts_credentials_are_refused_by_the_host(settings: Settings) -> None:
    host = Host(settings)
    tokens_before = tokens_out()
    async with uvicorn_serving(host.app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            refused = [await client.post(f"/ai/peptalk/{endpoint}", json=body) for endpoint, body in
                       (("invoke", {"input": REQUEST}), ("stream", {"input": REQUEST}), ("batch", {"inputs": [REQUEST]}))]
            refused += [await client.get(path) for path in ("/ai/peptalk/playground/index.html", "/ai/readyz",
                                                            "/ai/metrics", "/ai/peptalk/input_schema")]
            wrong = await client.post("/ai/peptalk/invoke", json={"input": REQUEST}, headers={"x-token": "guess"})
        with pytest.raises(httpx.HTTPStatusError, match="401"):
            await remote(url).ainvoke(REQUEST)
        metrics = await httpx.AsyncClient(base_url=url, headers=TOKEN).get("/ai/metrics")
    assert [response.status_code for response in refused] == [401] * 7
    assert all(response.json() == {"detail": "host says: sign in first"} for response in [*refused, wrong])
    assert tokens_out() == tokens_before  # no refused request reached a model
    assert 'model="none",route="/ai/peptalk/invoke",status="401"' in metrics.text


async def test_shutdown_drains_the_shadow_queue(make_settings: Callable[..., Settings], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "build_backends",
                        lambda settings: {**build_backends(settings), "fake": FakeBackend(delay_s=1.0)})
    settings = make_settings(data_dir=tmp_path, cache_enabled=False, shadow_candidates="fake:slow", **PATIENT,
                             shadow_hash_user_ids=False, shadow_flush_interval_s=0.1, shadow_timeout_s=30.0,
                             shadow_max_in_flight=1)
    host = Host(settings)
    users = ["ada", "grace", "linus"]
    async with uvicorn_serving(host.app) as url:
        chain = remote(url, **TOKEN)
        for user in users:
            await chain.ainvoke(REQUEST | {"user_id": user})
        shadow = host.peptalk.layer(ShadowLayer)
        assert isinstance(shadow, ShadowLayer)
        assert shadow.queue_depth + shadow._running >= 1  # still mirroring when the host shuts down
    rows = list(SqlShadowStore.from_url(settings.resolved_database_url()).read())
    assert sorted(row.user_id for row in rows) == users
    assert all(call.response and not call.error for row in rows for call in row.candidates)


async def test_the_hosts_logging_and_metrics_are_left_alone(settings: Settings) -> None:
    peptalk_logger, root = logging.getLogger("peptalk"), logging.getLogger()
    saved = (peptalk_logger.handlers[:], peptalk_logger.propagate, peptalk_logger.level, root.level)
    host_handler = Records()
    peptalk_logger.handlers, peptalk_logger.propagate = [], True  # as in a process that never ran create_app
    peptalk_logger.setLevel(logging.NOTSET)
    root.addHandler(host_handler)
    root.setLevel(logging.INFO)  # the host's logging configuration
    try:
        host = Host(settings)
        async with uvicorn_serving(host.app) as url:
            async with httpx.AsyncClient(base_url=url, headers=TOKEN, timeout=120) as client:
                assert (await client.get("/hello")).status_code == 200
                assert (await client.post("/ai/peptalk/invoke", json={"input": REQUEST})).status_code == 200
                host_metrics = (await client.get("/metrics")).text
        assert peptalk_logger.handlers == [] and peptalk_logger.propagate and peptalk_logger.level == logging.NOTSET
        assert root.handlers[-1] is host_handler and root.level == logging.INFO
        assert any(record.name == "peptalk.http" for record in host_handler.records)  # peptalk's logs go to the host's handlers
    finally:
        root.removeHandler(host_handler)
        peptalk_logger.handlers, peptalk_logger.propagate = saved[0], saved[1]
        peptalk_logger.setLevel(saved[2])
        root.setLevel(saved[3])
    assert "peptalk_" not in host_metrics  # peptalk's metrics stay in its own registry unless the host asks
    assert "host_hits_total 1.0" in host_metrics


async def test_the_host_can_expose_peptalks_metrics_in_its_own_registry(settings: Settings) -> None:
    host = Host(settings, share_registry=True)
    async with uvicorn_serving(host.app) as url:
        async with httpx.AsyncClient(base_url=url, headers=TOKEN, timeout=120) as client:
            await client.post("/ai/peptalk/invoke", json={"input": REQUEST})
            await client.get("/hello")
            host_metrics = (await client.get("/metrics")).text
    assert 'peptalk_requests_total{model="embedded:smollm2-135m",route="/ai/peptalk/invoke",status="200"}' in host_metrics
    assert "host_hits_total 1.0" in host_metrics
    clashing = CollectorRegistry()
    Counter("peptalk_requests", "a host metric that happens to use peptalk's name", registry=clashing)
    with pytest.raises(MetricsClash, match="peptalk_requests"):
        PepTalk(settings, registry=clashing)


async def test_routes_answer_a_clear_503_when_the_host_never_ran_its_lifespan(settings: Settings) -> None:
    host = Host(settings)
    transport = httpx.ASGITransport(app=host.app)  # runs no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://host.test", headers=TOKEN) as client:
        response = await client.post("/ai/peptalk/invoke", json={"input": REQUEST})
    assert response.status_code == 503 and response.json() == {"detail": NOT_STARTED}


async def test_a_mounted_create_app_starts_on_its_first_request_and_says_what_to_use(settings: Settings) -> None:
    host = FastAPI(title="host")
    host.mount("/ai", create_app(settings))
    handler = Records(logging.WARNING)
    logging.getLogger("peptalk.plugin").addHandler(handler)
    try:
        async with uvicorn_serving(host) as url:
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                ready = await client.get("/ai/readyz")
                invoked = await client.post("/ai/peptalk/invoke", json={"input": REQUEST})
                streamed = await client.post("/ai/peptalk/stream", json={"input": REQUEST})
    finally:
        logging.getLogger("peptalk.plugin").removeHandler(handler)
    assert ready.status_code == 200, ready.text
    assert invoked.status_code == 200 and invoked.json()["output"]["model"] == EMBEDDED
    assert streamed.status_code == 200 and sse_events(streamed.text)[-1][0] == "end"
    assert [record.getMessage() for record in handler.records] == [MOUNTED]
    assert "include_peptalk" in MOUNTED


def test_a_given_peptalk_is_included_as_is_and_a_bad_prefix_is_refused(settings: Settings) -> None:
    peptalk, registry = PepTalk(settings), CollectorRegistry()
    app = FastAPI()
    assert include_peptalk(app, "/assistant", peptalk=peptalk, registry=registry) is peptalk
    assert "/assistant/peptalk/invoke" in {getattr(route, "path", None) for route in app.router.routes}
    assert "peptalk_requests_total" in generate_latest(registry).decode()
    for prefix in ("ai", "/ai/"):
        with pytest.raises(ValueError, match="prefix"):
            include_peptalk(FastAPI(), prefix, peptalk=peptalk)
    with pytest.raises(ValueError, match="both settings= and peptalk="):  # never silently ignored
        include_peptalk(FastAPI(), peptalk=peptalk, settings=settings.model_copy(update={"max_tokens": 7}))
    assert include_peptalk(FastAPI(), peptalk=peptalk, settings=peptalk.settings) is peptalk  # the same: fine
    with pytest.raises(ValueError, match="fast_path=True with dependencies"):  # it would skip the host's auth
        include_peptalk(FastAPI(), peptalk=peptalk, fast_path=True, dependencies=[Depends(lambda: None)])


async def test_peptalks_envelope_check_and_rate_limits_guard_its_routes_in_the_host(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    host = Host(make_settings(data_dir=tmp_path, cache_enabled=False, rate_limit_per_user_per_minute=1, **PATIENT))
    async with host.app.router.lifespan_context(host.app):
        transport = httpx.ASGITransport(app=host.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://host.test", headers=TOKEN,
                                     timeout=300) as client:
            bad_config = await client.post("/ai/peptalk/invoke", json={"input": REQUEST, "config": "fast"})
            too_many = await client.post("/ai/peptalk/batch", json={"inputs": [REQUEST | {"user_id": "limited"}] * 2})
            host_route = [(await client.get("/metrics")).status_code for _ in range(3)]
    assert bad_config.status_code == 422 and bad_config.json()["detail"][0]["loc"] == ["body", "config"]
    assert too_many.status_code == 429 and "limited" in too_many.text  # two calls for a user allowed one a minute
    assert host_route == [200, 200, 200]  # the host's own routes are not peptalk's to limit


ENDPOINTS = ("invoke", "batch", "stream", "stream_log", "stream_events")
INCOMPLETE = {"user_id": "ada"}  # passes the limiter, then gets a 422 (or an error event): no generation needed


async def test_one_limit_holds_across_every_one_of_peptalks_routes(make_settings: Callable[..., Settings],
                                                                   tmp_path: Path) -> None:
    """Every generating route, with and without `/c/{config_hash}`, spends from the same limiter (one per PepTalk)."""
    paths = [f"/ai/peptalk{config}/{endpoint}" for config in ("", "/c/e30") for endpoint in ENDPOINTS]
    limit = len(paths)  # one request per route uses up the client's whole minute
    host = Host(make_settings(data_dir=tmp_path, cache_enabled=False, rate_limit_per_key_per_minute=limit,
                              rate_limit_per_user_per_minute=0, **PATIENT))
    limiter, closed = host.peptalk.rate_limiter, []
    assert limiter is not None

    async def aclose() -> None:
        closed.append(limiter)

    limiter.aclose = aclose  # type: ignore[method-assign]
    async with host.app.router.lifespan_context(host.app):
        transport = httpx.ASGITransport(app=host.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://host.test", headers=TOKEN,
                                     timeout=300) as client:
            spent = [await client.post(path, json={"inputs": [INCOMPLETE]} if path.endswith("/batch")
                                       else {"input": INCOMPLETE}) for path in paths]
            over = [await client.post(path, json={"input": INCOMPLETE}) for path in paths]
    assert [response.status_code for response in spent if response.status_code == 429] == []
    assert [response.status_code for response in over] == [429] * limit  # each route refuses: one budget for all
    assert closed == [limiter]  # closed once, when peptalk stopped with the host
