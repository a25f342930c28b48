"""One stream from one node, under a first-token and a total timeout.

`open_stream` reads up to the first token, so that a failure before it can be retried or fall back
transparently; `NodeStream.rest` yields the remainder, where a failure becomes `StreamInterrupted`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field

from langchain_core.messages import AIMessageChunk, BaseMessage

from router.errors import BackendUnavailable, FailureKind, StreamInterrupted
from router.faults import classify
from router.nodes import Node


@dataclass
class NodeStream:
    """A stream that has produced its first token (or ended), with what came before it buffered."""

    node: Node
    iterator: AsyncIterator[AIMessageChunk]
    buffered: list[AIMessageChunk]
    started: float  # event-loop time
    total_deadline: float
    first_token_s: float | None
    finished: bool
    attempts: int = field(default=1, init=False)  # tries this model needed, retries included
    _closed: bool = field(default=False, init=False)

    async def rest(self) -> AsyncGenerator[AIMessageChunk, None]:
        """The buffered chunks, then the rest of the stream; the node's outcome is recorded when it ends."""
        loop = asyncio.get_running_loop()
        sent = 0
        verdict_recorded = False
        try:
            for chunk in self.buffered:
                sent += 1
                yield chunk
            while not self.finished:
                try:
                    async with asyncio.timeout_at(self.total_deadline):
                        chunk = await anext(self.iterator)
                except StopAsyncIteration:
                    break
                sent += 1
                yield chunk
            self.node.end("success", latency_s=loop.time() - self.started, first_token_s=self.first_token_s)
            verdict_recorded = True
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            failure = classify(exc, model=str(self.node.ref), node=self.node.url)
            self.node.end("failure", error=failure.reason)
            verdict_recorded = True
            raise StreamInterrupted(str(self.node.ref), failure.reason, kind=failure.kind, node=self.node.url,
                                    chunks_sent=sent) from exc
        finally:
            if not verdict_recorded:
                self.node.end("neutral")  # the caller stopped reading: no verdict on the node
            await self.aclose()

    async def abandon(self) -> None:
        """Ends a stream whose `rest` was never read: no verdict on the node, connection closed."""
        self.node.end("neutral")
        await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            closer = getattr(self.iterator, "aclose", None)
            if closer is not None:
                try:
                    await closer()
                except Exception:  # noqa: BLE001 (a broken stream may fail to close; it is abandoned either way)
                    pass


async def open_stream(node: Node, messages: list[BaseMessage], *, first_token_deadline: float,
                      total_deadline: float) -> NodeStream:
    """Starts `node`'s stream and reads up to its first non-empty chunk; any failure is a `BackendUnavailable`."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    node.begin()
    try:
        iterator = aiter(node.chat_model().astream(messages))
    except BaseException:
        node.end("neutral")
        raise
    stream = NodeStream(node, iterator, [], started, total_deadline, None, False)
    waiting_for: FailureKind = "first_token_timeout" if first_token_deadline < total_deadline else "timeout"
    try:
        while True:
            try:
                async with asyncio.timeout_at(first_token_deadline):
                    chunk = await anext(iterator)
            except StopAsyncIteration:
                stream.finished = True
                return stream
            stream.buffered.append(chunk)
            if chunk.content:
                stream.first_token_s = loop.time() - started
                return stream
    except asyncio.CancelledError:
        node.end("neutral")
        await stream.aclose()
        raise
    except Exception as exc:
        await stream.aclose()
        if isinstance(exc, TimeoutError) and loop.time() >= first_token_deadline:
            budget = first_token_deadline - started
            failure = BackendUnavailable(
                str(node.ref), f"no first token from {node.url} within {budget:.2f} s",
                kind=waiting_for, node=node.url)
        else:
            failure = classify(exc, model=str(node.ref), node=node.url)
        node.end("failure" if failure.retryable else "neutral", error=failure.reason)
        raise failure from exc
