"""The chain's output parser: the pep-talk text plus what the router reported about it."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_core.output_parsers import BaseTransformOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables.utils import AddableDict

from router.call import facts_of
from router.usage import usage_source_of


class PepTalkOutputParser(BaseTransformOutputParser[dict[str, Any]]):
    """Turns each (chunk of an) AI message into `{"text", "model"?, "metadata"?}`.

    The metadata also names the prompt template and its version, and says `truncated` when the backend
    stopped at the token limit (finish reason `length`).
    """

    template: str | None = None
    template_version: str | None = None

    @property
    def _type(self) -> str:
        return "peptalk_output"

    def parse(self, text: str) -> dict[str, Any]:
        return {"text": text}

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> dict[str, Any]:
        generation = result[0]
        if not isinstance(generation, ChatGeneration):
            return {"text": generation.text}
        template = {"template": self.template, "template_version": self.template_version} if self.template else None
        return output_of(generation.message, template=template)


def finish_reason_of(response_metadata: dict[str, Any]) -> str | None:
    """Why the backend stopped: OpenAI's and llama.cpp's `finish_reason`, Ollama's `done_reason`."""
    reason = response_metadata.get("finish_reason") or response_metadata.get("done_reason")
    return str(reason) if reason else None


def output_of(message: BaseMessage, *, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """`{"text", "model"?, "metadata"?}` for a message or one chunk of it.

    Addable, so that a stream's chunks add up to the whole answer (texts joined, metadata merged): LangChain
    builds the final output of `stream_log` and `stream_events` that way, and keeps only the last chunk otherwise.
    """
    output: dict[str, Any] = AddableDict(text=message.text)
    facts = facts_of(message)
    reported = AddableDict(facts.as_dict() if facts is not None else {})
    if template and (reported or not isinstance(message, BaseMessageChunk)):
        reported.update(template)  # once per answer: on the first (meta) chunk, or on the whole message
    finish_reason = finish_reason_of(message.response_metadata)
    if finish_reason:
        reported["finish_reason"] = finish_reason
        reported["truncated"] = finish_reason == "length"
    if "model" in reported:
        output["model"] = reported.pop("model")
    usage = getattr(message, "usage_metadata", None)
    if usage:
        reported["usage"] = dict(usage)
        reported["usage_source"] = usage_source_of(message.response_metadata)  # "counted": the engine sent none
    if reported:
        output["metadata"] = reported
    return output
