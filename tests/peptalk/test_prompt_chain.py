"""Through the real embedded model: the study's prompt is what reaches the backend, and answers carry the
template's version and say when the token limit cut them short."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from peptalk.chain import build_chain
from peptalk.prompt import get_template
from peptalk.settings import Settings
from router import Router, build_backends
from router.call import Call
from tests.peptalk.test_prompt import STUDY_SENTENCES

REQUEST = {"user_id": "u1", "today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Draft Q4 budget"], "focused_tasks": ["Review pull request #42"],
           "rituals": ["Morning run"], "goals": ["Ship the release"]}


class Recording:
    """A pass-through layer over the router that keeps every call it forwards."""

    def __init__(self, inner: Router) -> None:
        self.inner = inner
        self.calls: list[Call] = []

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.calls.append(call)
        async for chunk in self.inner.astream(call):
            yield chunk


@pytest.fixture
async def recorded(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[Any, Recording]]:
    settings = make_settings(max_tokens=8)
    router = Router(build_backends(settings), default_model=settings.default_model)
    await router.start()
    layer = Recording(router)
    try:
        yield build_chain(router, layer=layer, template="slam"), layer
    finally:
        await router.aclose()


async def test_the_backend_receives_the_study_prompt_and_the_answer_says_so(recorded: tuple[Any, Recording]) -> None:
    chain, layer = recorded
    output = await chain.ainvoke(REQUEST)
    (call,) = layer.calls
    (message,) = call.messages
    for sentence in STUDY_SENTENCES:
        assert sentence in message.content
    assert "Ship the release" in message.content and "Morning run" in message.content
    version = get_template("slam").version
    assert call.template_version == version
    assert output["metadata"]["template"] == "slam"
    assert output["metadata"]["template_version"] == version
    # 8 tokens cannot hold a pep talk: the embedded backend stops at the limit, and the answer says so.
    assert output["metadata"]["finish_reason"] == "length"
    assert output["metadata"]["truncated"] is True


async def test_streamed_answer_carries_the_version_once(recorded: tuple[Any, Recording]) -> None:
    chain, _ = recorded
    chunks = [chunk async for chunk in chain.astream(REQUEST)]
    versions = [chunk["metadata"]["template_version"] for chunk in chunks if "template_version" in chunk.get("metadata", {})]
    assert versions == [get_template("slam").version]
    assert any(chunk.get("metadata", {}).get("truncated") for chunk in chunks)


def test_default_token_limit_leaves_room_for_the_study_answers() -> None:
    # The study's sample answers run to about 270 tokens; the default must not cut them.
    assert Settings(_env_file=None).max_tokens >= 512
