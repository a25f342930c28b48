"""The chain's output parser: the pep-talk text plus what the router reported about it."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import BaseTransformOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables.utils import AddableDict

from router.call import META_KEY


class PepTalkOutputParser(BaseTransformOutputParser[dict[str, Any]]):
    """Turns each (chunk of an) AI message into `{"text", "model"?, "metadata"?}`."""

    @property
    def _type(self) -> str:
        return "peptalk_output"

    def parse(self, text: str) -> dict[str, Any]:
        return {"text": text}

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> dict[str, Any]:
        generation = result[0]
        if not isinstance(generation, ChatGeneration):
            return {"text": generation.text}
        return output_of(generation.message)


def output_of(message: BaseMessage) -> dict[str, Any]:
    """`{"text", "model"?, "metadata"?}` for a message or one chunk of it.

    Addable, so that a stream's chunks add up to the whole answer (texts joined, metadata merged): LangChain
    builds the final output of `stream_log` and `stream_events` that way, and keeps only the last chunk otherwise.
    """
    output: dict[str, Any] = AddableDict(text=message.text)
    reported = AddableDict(message.response_metadata.get(META_KEY) or {})
    if "model" in reported:
        output["model"] = reported.pop("model")
    usage = getattr(message, "usage_metadata", None)
    if usage:
        reported["usage"] = dict(usage)
    if reported:
        output["metadata"] = reported
    return output
