"""The record formats that connect the shadow log, the generator, the probes and the evaluators.

- `DatasetItem`: one prompt with one response per model (the JSONL dataset `peptalk eval` reads).
- `CallRecord`: one model call with its timing and tokens (generator output, shadow pairs, probes).
- `ShadowExportRow`: one mirrored request as `peptalk shadow export` writes it (JSONL/CSV/Parquet).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from router.usage import UsageSource  # the backend's usage data, or counted by peptalk

CallSource = Literal["generator", "shadow", "probe"]


class DatasetItem(BaseModel):
    """`{prompt_id, prompt, responses: {model: text}, reference_model}`."""

    prompt_id: str
    prompt: str
    responses: dict[str, str]
    reference_model: str
    request: dict[str, Any] | None = None  # the PepTalkRequest fields, when known
    template_version: str | None = None  # the prompt template the responses answered (`slam@<hash>`)
    truncated: list[str] = Field(default_factory=list)  # models whose kept response hit the token limit


class CallRecord(BaseModel):
    """One call to one model: what it answered, how long it took and how many tokens it used."""

    model: str  # backend:model
    response: str | None = None
    error: str | None = None
    latency_s: float | None = None  # whole request
    ttft_s: float | None = None  # time to first token
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_hit: bool = False
    started_at: dt.datetime | None = None
    prompt_id: str | None = None
    repeat: int | None = None
    source: CallSource | None = None
    usage_source: UsageSource | None = None  # where the token counts came from
    finish_reason: str | None = None  # as the backend reported it (`stop`, `length`, ...)
    truncated: bool = False  # the backend stopped at the token limit (finish reason `length`)
    template_version: str | None = None  # the prompt template the call rendered (`slam@<hash>`)

    @property
    def per_token_s(self) -> float | None:
        """Decode time per output token: (latency - TTFT) / (output tokens - 1)."""
        if self.latency_s is None or self.ttft_s is None or not self.output_tokens or self.output_tokens < 2:
            return None
        return max(self.latency_s - self.ttft_s, 0.0) / (self.output_tokens - 1)


class ShadowExportRow(BaseModel):
    """One production request with its primary answer and every candidate's answer."""

    request_id: str
    created_at: dt.datetime
    user_id: str  # hashed when the deployment hashes user ids
    request: dict[str, Any]
    prompt: str
    primary: CallRecord
    candidates: list[CallRecord] = Field(default_factory=list)
    pair_id: str | None = None  # unique per mirrored call (one HTTP batch request shares its request_id)
    template_version: str | None = None  # the prompt template of the mirrored request (`slam@<hash>`)
