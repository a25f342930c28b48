"""LangServe's answers (invoke, batch, stream) for outputs made without running the chain, by LangServe's own code.

The exact-hit fast path answers with these. The envelopes, their validation against the chain's output
schema, the JSON encoding and the SSE events and framing are LangServe's (`APIHandler`'s response models,
`WellKnownLCSerializer`, its metadata event, sse-starlette's encoder and headers), so they cannot drift from
what LangServe sends for the same outputs. The one difference is the transport: a stream's events are all
known at once, so they go out in one write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import Runnable
from langserve import APIHandler
from langserve.api_handler import _create_metadata_event, _json_encode_response
from langserve.schema import BatchResponseMetadata, InvokeResponseMetadata
from langserve.serialization import WellKnownLCSerializer
from sse_starlette.sse import EventSourceResponse, ensure_bytes
from starlette.responses import Response
from starlette.types import Message


class LangServeAnswers:
    """Builds the responses LangServe's endpoints for `runnable` (served at `path`) send for given outputs."""

    def __init__(self, runnable: Runnable, *, path: str) -> None:
        # The same models `add_routes` builds for this runnable and path (LangServe caches them by name and schema).
        self.handler = APIHandler(runnable, path=path)
        self.serializer = WellKnownLCSerializer()  # `APIHandler`'s default
        # sse-starlette's frame of a data event, cut around its data: framing hundreds of word-sized events one
        # `ServerSentEvent` at a time doubles a long stream's cost. Compact JSON has no line break to split on.
        events = EventSourceResponse(_NO_EVENTS)  # for its separator, status and headers; it never runs
        self.sep = events.sep
        self._stream_status, self._stream_headers = events.status_code, tuple(events.raw_headers)
        self._data_frame = ensure_bytes({"data": _MARK, "event": "data"}, self.sep).split(_MARK.encode())

    def invoke(self, output: Any) -> Response:
        """`/invoke`'s answer: `{"output", "metadata": {"run_id", "feedback_tokens"}}`."""
        return _json_encode_response(self.handler.InvokeResponse(
            output=self.serializer.dumpd(output), callback_events=[],
            metadata=InvokeResponseMetadata(run_id=uuid.uuid4(), feedback_tokens=[])))

    def batch(self, outputs: Sequence[Any]) -> Response:
        """`/batch`'s answer: `{"output": [...], "metadata": {"run_ids", "responses"}}`."""
        run_ids = [uuid.uuid4() for _ in outputs]
        return _json_encode_response(self.handler.BatchResponse(
            output=self.serializer.dumpd(list(outputs)), callback_events=[],
            metadata=BatchResponseMetadata(run_ids=run_ids, responses=[
                InvokeResponseMetadata(run_id=run_id, feedback_tokens=[]) for run_id in run_ids])))

    def stream(self, outputs: Sequence[Any]) -> tuple[Message, Message]:
        """`/stream`'s answer as two ASGI messages (start, whole body): a metadata event, one data event per
        output, and the end event."""
        body = b"".join([ensure_bytes(_create_metadata_event(uuid.uuid4()), self.sep),
                         *(self._data_event(output) for output in outputs),
                         ensure_bytes({"event": "end"}, self.sep)])
        return ({"type": "http.response.start", "status": self._stream_status, "headers": list(self._stream_headers)},
                {"type": "http.response.body", "body": body, "more_body": False})

    def _data_event(self, output: Any) -> bytes:
        """A data event as LangServe sends it: `{"data": serializer.dumps(output), "event": "data"}`, framed."""
        data = self.serializer.dumps(output)
        if b"\n" in data or b"\r" in data:  # never from compact JSON; framed the long way all the same
            return ensure_bytes({"data": data.decode("utf-8"), "event": "data"}, self.sep)
        before, after = self._data_frame
        return before + data + after


_MARK = "\x00peptalk-data\x00"  # no JSON output contains a raw NUL


class _NoEvents:
    """An empty async iterable, so that `EventSourceResponse` takes it as is."""

    def __aiter__(self) -> _NoEvents:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


_NO_EVENTS = _NoEvents()
