"""The router as a `ChatLayer`: backends written against the one-node interface, node bookkeeping, early close."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from router import Backend, ModelRef, Router
from router.call import META_KEY, Call


class OneNodeBackend(Backend):
    """A minimal backend: one in-process node, `chat_model` and `check_node` only."""

    name = "fake"

    def __init__(self, *, reachable: bool = True) -> None:
        self.reachable = reachable

    def models(self) -> list[str]:
        return ["echo"]

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        return GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))

    async def check_node(self, node: str) -> tuple[bool, str]:
        return self.reachable, "fake detail"


async def test_a_one_node_backend_serves_through_the_router() -> None:
    router = Router({"fake": OneNodeBackend(reachable=False)}, default_model="fake:echo")
    await router.start()
    call = Call(messages=[HumanMessage("hi")])
    assert router.plan(call) == [ModelRef("fake", "echo")]
    chunks = [chunk async for chunk in router.astream(call)]
    assert chunks[0].response_metadata[META_KEY] == {"model": "fake:echo"}
    assert "".join(chunk.text for chunk in chunks) == "one two three four"
    [status] = await router.status()
    assert status.reachable is False and status.nodes["local"]["detail"] == "fake detail"
    [node] = router.pools[ModelRef("fake", "echo")].nodes
    assert node.served == 1 and node.outstanding == 0 and node.state == "up"


async def test_a_caller_that_stops_reading_releases_the_node_without_a_verdict() -> None:
    router = Router({"fake": OneNodeBackend()}, default_model="fake:echo")
    await router.start()
    stream = router.astream(Call(messages=[HumanMessage("hi")]))
    await anext(stream)  # the meta chunk
    await anext(stream)  # the first token
    [node] = router.pools[ModelRef("fake", "echo")].nodes
    assert node.outstanding == 1
    await stream.aclose()
    assert node.outstanding == 0 and node.served == 0 and node.failed == 0 and node.state == "up"


async def test_a_caller_that_stops_after_the_first_chunk_releases_the_node() -> None:
    router = Router({"fake": OneNodeBackend()}, default_model="fake:echo")
    await router.start()
    stream = router.astream(Call(messages=[HumanMessage("hi")]))
    first = await anext(stream)
    assert first.response_metadata[META_KEY]["model"] == "fake:echo"
    await stream.aclose()
    [node] = router.pools[ModelRef("fake", "echo")].nodes
    assert node.outstanding == 0 and node.state == "up"
