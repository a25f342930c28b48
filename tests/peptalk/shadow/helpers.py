"""Building blocks of the shadow tests: a router over the fake backend, a layer over it, a call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessageChunk, HumanMessage

from peptalk.cache.facts import CacheFacts
from peptalk.db import sqlite_url
from peptalk.shadow import ShadowLayer, ShadowPolicy, SqlShadowStore
from router.call import AnswerFacts, Call, ChatLayer, facts_chunk, facts_of
from router.router import Router
from tests.peptalk.shadow.fakes import FakeBackend

REQUEST = {"user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Wrote the design doc"], "focused_tasks": ["Review two pull requests"],
           "rituals": ["Morning run"], "goals": ["Ship the beta"]}


def fake_router(delay_s: float = 3.0) -> Router:
    return Router({"fake": FakeBackend(delay_s=delay_s)}, default_model="fake:fast")


def make_call(user_id: str = "ada", model: str | None = None) -> Call:
    return Call(messages=[HumanMessage("Write Ada a pep talk.")], request=REQUEST | {"user_id": user_id}, model=model)


def make_layer(tmp_path: Path, candidates: tuple[str, ...], *, router: Router | None = None,
               inner: ChatLayer | None = None, **policy: Any) -> ShadowLayer:
    router = router or fake_router()
    values: dict[str, Any] = {"hash_user_ids": False, "flush_interval_s": 0.05, "batch_size": 10,
                              "retention_days": 0, "timeout_s": 5.0, "drain_timeout_s": 10.0}
    values.update(policy)
    store = SqlShadowStore.from_url(sqlite_url(tmp_path / "shadow.db"))
    return ShadowLayer(inner or router, router, policy=ShadowPolicy(candidates=candidates, **values), store=store)


async def collect(layer: ChatLayer, call: Call) -> list[AIMessageChunk]:
    return [chunk async for chunk in layer.astream(call)]


class CacheHitLayer:
    """Stands in for the semantic cache: counts its calls and marks every answer as a cache hit."""

    def __init__(self, inner: ChatLayer) -> None:
        self.inner = inner
        self.calls = 0

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.calls += 1
        first = True
        async for chunk in self.inner.astream(call):
            if first:
                first = False
                yield facts_chunk((facts_of(chunk) or AnswerFacts()).with_(CacheFacts(hit=True, kind="exact")))
                continue
            yield chunk
