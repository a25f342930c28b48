"""The generator: N prompts x M models x K repeats through the router, timed, into a dataset and call records."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from langchain_core.messages import HumanMessage

from evaluation.records import CallRecord, DatasetItem, UsageSource
from peptalk.output import finish_reason_of
from peptalk.prompt import get_template
from peptalk.schema import PepTalkRequest
from router.call import Call, CallOptions, ChatLayer, facts_of
from router.usage import usage_source_of


def prompt_ids(contexts: list[dict[str, Any]]) -> list[str]:
    """`user_id@today` per context, made unique with `#n` where a user appears twice on one day."""
    ids: list[str] = []
    for context in contexts:
        base = f"{context['user_id']}@{context['today']}"
        candidate, suffix = base, 2
        while candidate in ids:
            candidate, suffix = f"{base}#{suffix}", suffix + 1
        ids.append(candidate)
    return ids


async def timed_call(layer: ChatLayer, *, model: str, prompt: str, request: dict[str, Any] | None = None,
                     prompt_id: str | None = None, repeat: int | None = None,
                     template_version: str | None = None) -> CallRecord:
    """One streamed call: the answer, whole latency, time to first token and tokens; a failure is recorded, not raised."""
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    ttft: float | None = None
    served = model
    pieces: list[str] = []
    input_tokens = output_tokens = 0
    usage_source: UsageSource | None = None
    record = CallRecord(model=model, started_at=started_at, prompt_id=prompt_id, repeat=repeat, source="generator",
                        template_version=template_version)
    options = CallOptions(template_version=template_version or None)
    try:
        async for chunk in layer.astream(Call(messages=[HumanMessage(prompt)], request=request, model=model,
                                              options=options)):
            facts = facts_of(chunk)
            if facts is not None and facts.model:
                served = facts.model
            if (reason := finish_reason_of(chunk.response_metadata)) is not None:
                record.finish_reason = reason
                record.truncated = reason == "length"
            if chunk.content:
                if ttft is None:
                    ttft = time.perf_counter() - started
                pieces.append(chunk.text)
            if chunk.usage_metadata:
                usage_source = usage_source_of(chunk.response_metadata)
                input_tokens += chunk.usage_metadata.get("input_tokens", 0)
                output_tokens += chunk.usage_metadata.get("output_tokens", 0)
    except Exception as exc:  # one failed call must not end a long generation run
        record.error = f"{type(exc).__name__}: {exc}"
    record.latency_s = time.perf_counter() - started
    record.ttft_s = ttft
    record.model = served
    if record.error is None:
        record.response = "".join(pieces)
        if served != model:
            record.error = f"asked for {model} but {served} answered"
    if usage_source is not None:
        record.input_tokens, record.output_tokens = input_tokens, output_tokens
        record.usage_source = usage_source
    return record


def keep_record(records: list[CallRecord], *, keep_repeat: int) -> CallRecord | None:
    """The call of repeat `keep_repeat`, or the first repeat that succeeded when that one failed."""
    ok = [record for record in records if record.error is None and record.response is not None]
    return next((record for record in ok if record.repeat == keep_repeat), ok[0] if ok else None)


def keep_response(records: list[CallRecord], *, keep_repeat: int) -> str | None:
    """The answer of repeat `keep_repeat`, or of the first repeat that succeeded when that one failed."""
    chosen = keep_record(records, keep_repeat=keep_repeat)
    return None if chosen is None else chosen.response


async def generate(layer: ChatLayer, *, contexts: list[dict[str, Any]], models: list[str], repeats: int,
                   reference_model: str, keep_repeat: int = 0, template: str | None = None,
                   on_call: Callable[[CallRecord], None] | None = None) -> tuple[list[DatasetItem], list[CallRecord]]:
    """Every context rendered with the production prompt (`template`), asked of every model `repeats` times.

    Calls interleave models within each prompt and repeat, so a slow drift of the machine hits every model alike.
    """
    spec = get_template(template)
    items: list[DatasetItem] = []
    calls: list[CallRecord] = []
    for prompt_id, context in zip(prompt_ids(contexts), contexts, strict=True):
        request = PepTalkRequest.model_validate(context)
        prompt = spec.render(request)
        payload = request.model_dump(mode="json")
        per_model: dict[str, list[CallRecord]] = {model: [] for model in models}
        for repeat in range(repeats):
            for model in models:
                record = await timed_call(layer, model=model, prompt=prompt, request=payload, prompt_id=prompt_id,
                                          repeat=repeat, template_version=spec.version)
                per_model[model].append(record)
                calls.append(record)
                if on_call is not None:
                    on_call(record)
        kept = {model: keep_record(per_model[model], keep_repeat=keep_repeat) for model in models}
        responses = {model: record.response for model, record in kept.items()
                     if record is not None and record.response is not None}
        truncated = [model for model, record in kept.items() if record is not None and record.truncated]
        items.append(DatasetItem(prompt_id=prompt_id, prompt=prompt, responses=responses,
                                 reference_model=reference_model, request=payload, template_version=spec.version,
                                 truncated=truncated))
    return items, calls
