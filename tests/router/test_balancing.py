"""Least-outstanding balancing: the pool logic, then over two real Ollama-protocol doubles through the HTTP app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from router import ModelRef
from router.config import BreakerConfig
from router.nodes import Node, NodePool
from tests.conftest import OLLAMA_TAG, start_ollama_double

REF = ModelRef("ollama", OLLAMA_TAG)


def pool(count: int) -> NodePool:
    nodes = [Node(REF, f"http://node-{index}", lambda: GenericFakeChatModel(messages=iter([])), BreakerConfig())
             for index in range(count)]
    return NodePool(REF, nodes)


def test_pick_prefers_the_fewest_outstanding_then_untried_then_rotates() -> None:
    nodes = pool(3)
    first, second, third = nodes.nodes
    first.outstanding, second.outstanding, third.outstanding = 2, 0, 1
    assert nodes.pick() is second
    second.outstanding = 1
    assert nodes.pick(tried=[second]) is third  # equal load: the node this request has not tried yet
    third.outstanding = second.outstanding = first.outstanding = 0
    assert {nodes.pick().url for _ in range(6)} == {node.url for node in nodes.nodes}  # idle ties rotate


def test_pick_skips_nodes_whose_breaker_is_open() -> None:
    nodes = pool(2)
    for _ in range(3):
        nodes.nodes[0].begin()
        nodes.nodes[0].end("failure", error="refused")
    assert all(nodes.pick() is nodes.nodes[1] for _ in range(4))
    for _ in range(3):
        nodes.nodes[1].begin()
        nodes.nodes[1].end("failure", error="refused")
    assert nodes.pick() is None and not nodes.any_available()


@pytest.fixture(scope="module")
def second_double(gguf_path: Path) -> Iterator[str]:
    port, server = start_ollama_double(gguf_path, tags=[OLLAMA_TAG], name="ollama-double-2")
    with server:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.timeout(600)
async def test_concurrent_requests_spread_over_two_ollama_doubles_via_http(
        make_settings, ollama_double: str, second_double: str, tmp_path: Path) -> None:
    from langserve_app import create_app
    from tests.test_langserve_app import REQUEST, serving

    settings = make_settings(backends=["ollama"], default_model=f"ollama:{OLLAMA_TAG}", max_tokens=8,
                             ollama_base_urls=[ollama_double, second_double],
                             # two generations queue on each double, on a shared 2-core machine: be patient
                             request_timeout_s=400, first_token_timeout_s=400, request_deadline_s=500,
                             cache_enabled=False, data_dir=tmp_path)  # every request must reach the router
    app = create_app(settings)
    async with serving(app) as http:
        router = app.peptalk.router
        nodes = router.pools[REF].nodes
        peak: dict[str, int] = {node.url: 0 for node in nodes}

        async def sample() -> None:
            while True:
                for node in nodes:
                    peak[node.url] = max(peak[node.url], node.outstanding)
                await asyncio.sleep(0.01)

        sampler = asyncio.create_task(sample())
        responses = await asyncio.gather(*(http.post("/peptalk/invoke", json={"input": REQUEST | {"user_id": f"u{n}"}})
                                           for n in range(4)))
        sampler.cancel()
        assert [response.status_code for response in responses] == [200] * 4
        assert {response.json()["output"]["model"] for response in responses} == {f"ollama:{OLLAMA_TAG}"}
        served = {node["node"]: node["served"] for node in (await http.get("/models")).json()["nodes"][str(REF)]}
        assert served == {ollama_double: 2, second_double: 2}
        assert max(peak.values()) <= 2 and min(peak.values()) >= 1
        ready = (await http.get("/readyz")).json()
        assert all(entry["reachable"] for entry in ready["backends"]["ollama"]["nodes"].values())
        assert all(node["state"] == "up" and node["latency_ms"]["p50"] > 0 for node in ready["nodes"][str(REF)])
