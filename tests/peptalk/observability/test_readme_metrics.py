"""Every metric the README's table lists has samples in `/metrics` after traffic that exercises it.

The names come from the README itself, so a metric added there without being wired fails here. The traffic
goes through real parts: the cache (FAISS, MiniLM), a fallback from a closed Ollama port to the strict OpenAI
double, and a shadow candidate on a hanging server that times out and overflows the shadow queue.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from langserve_app import create_app
from peptalk.settings import Settings
from tests.doubles.faults import FaultServer, closed_port_url
from tests.doubles.openai_canned import create_double
from tests.helpers import ROOT, wait_for_async
from tests.helpers import serving as serving_in_thread
from tests.test_langserve_app import REQUEST, serving

PRIMARY, CANDIDATE, OPENAI = "ollama:starling-lm:7b", "ollama:mistral:7b", "openai:gpt-4"


def readme_metrics() -> set[str]:
    """The metric names in the documented `/metrics` table (docs/observability.md)."""
    text = (ROOT / "docs" / "observability.md").read_text()
    table = text[text.index("### Metrics (`GET /metrics`"):]
    table = table[:table.index("\n\n", table.index("| Metric |"))]
    return set(re.findall(r"`(peptalk_[a-z_]+)`", table))


@pytest.fixture(scope="module")
def openai_url() -> Iterator[str]:
    with serving_in_thread(create_double(api_keys=["sk-test"])) as url:
        yield url


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_every_readme_metric_has_samples(make_settings: Callable[..., Settings], tmp_path: Path,
                                               openai_url: str) -> None:
    names = readme_metrics()
    assert len(names) >= 16, names  # the table was found and read
    with FaultServer(["hang"], tags=("mistral:7b",)) as hanging:
        config = tmp_path / "router.yaml"
        config.write_text(f"""
fallback_chain: ["{PRIMARY}", "{OPENAI}"]
retry: {{attempts: 2, backoff_s: 0.01, backoff_max_s: 0.05}}
models:
  "{PRIMARY}": {{nodes: ["{closed_port_url()}"]}}
  "{CANDIDATE}": {{nodes: ["{hanging.url}"]}}
""")
        settings = make_settings(
            backends=["ollama", "openai"], default_model=PRIMARY, ollama_models=["starling-lm:7b", "mistral:7b"],
            openai_base_url=f"{openai_url}/v1", openai_api_key="sk-test", router_config=config,
            data_dir=tmp_path / "data", cache_enabled=True, shadow_candidates=[CANDIDATE], shadow_timeout_s=1.0,
            shadow_max_in_flight=1, shadow_queue_size=1, shadow_drain_timeout_s=0.3, shadow_hash_user_ids=False)
        dropped_before = _dropped()
        timeouts_before = _sample("peptalk_shadow_calls_total", model=CANDIDATE, outcome="timeout")
        async with serving(create_app(settings)) as http:
            bad = await http.post("/peptalk/invoke", json={"input": REQUEST | {"today": "yesterday"}})
            assert bad.status_code == 422
            first = await http.post("/peptalk/invoke", json={"input": REQUEST})
            assert first.json()["output"]["model"] == OPENAI  # fell back from the closed Ollama port
            assert first.json()["output"]["metadata"]["cache_hit"] is False
            answers = await asyncio.gather(*(http.post("/peptalk/stream", json={"input": REQUEST | {"user_id": f"u{i}"}})
                                             for i in range(6)))
            assert all(answer.status_code == 200 for answer in answers)
            await wait_for_async(lambda: _sample("peptalk_shadow_calls_total", model=CANDIDATE,
                                                 outcome="timeout") > timeouts_before,
                                 what="the hanging candidate timing out")
            exposition = (await http.get("/metrics")).text
            # The worker now hangs on the next queued job; shutting down (0.3 s drain) drops what is left.
    families = {family.name: family for family in text_string_to_metric_families(exposition)}
    # A drop is counted when the queue overflows or at shutdown, so that one is read once the app has stopped.
    # A spent quota (429 insufficient_quota) is not in this traffic: tests/router/test_protocol_faults.py
    # counts its samples through the router and the real openai client.
    elsewhere = {"peptalk_shadow_dropped_total", "peptalk_quota_exhausted_total"}
    missing = [name for name in sorted(names - elsewhere)
               if not families.get(name.removesuffix("_total"), _Empty()).samples]
    assert missing == [], f"README lists metrics with no samples: {missing}"
    assert "peptalk_shadow_dropped" in families and _dropped() > dropped_before
    assert _sample("peptalk_fallbacks_total", from_model=PRIMARY, to_model=OPENAI, reason="connect") >= 1
    assert _sample("peptalk_estimated_cost_usd_total", model=OPENAI) > 0  # priced from the double's usage
    assert _sample("peptalk_cache_entries") >= 1


def _dropped() -> float:
    return sum(_sample("peptalk_shadow_dropped_total", reason=reason)
               for reason in ("queue_full", "stopped", "shutdown", "write_failed", "write_backlog", "error"))


class _Empty:
    samples: list[Any] = []
