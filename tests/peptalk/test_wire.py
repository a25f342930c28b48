"""LangServe's answers built by its own code: the data-event frame cut from sse-starlette's is the same bytes."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from sse_starlette.sse import ensure_bytes

from peptalk.schema import PepTalkResponse
from peptalk.wire import LangServeAnswers

ANSWERS = LangServeAnswers(RunnableLambda(lambda payload: payload).with_types(output_type=PepTalkResponse),
                           path="/wire-test")


@pytest.mark.parametrize("output", [
    {"text": "Go "}, {"text": ""}, {"text": "Größe, 日本, \u2028 and \"quotes\"\n"},
    {"text": "", "model": "openai:gpt-4", "metadata": {"cache_hit": True, "similarity": 0.9312}},
])
def test_a_data_event_is_framed_as_sse_starlette_frames_it(output: dict[str, Any]) -> None:
    expected = ensure_bytes({"data": ANSWERS.serializer.dumps(output).decode("utf-8"), "event": "data"}, ANSWERS.sep)
    assert ANSWERS._data_event(output) == expected


def test_a_stream_is_metadata_data_and_end_in_one_body() -> None:
    start, body = ANSWERS.stream([{"text": "Go"}])
    assert start["status"] == 200 and (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    events = body["body"].split(b"\r\n\r\n")
    assert events[0].startswith(b'event: metadata\r\ndata: {"run_id": "') and events[1:] == [
        b'event: data\r\ndata: {"text":"Go"}', b"event: end", b""]
