"""`MetricsLayer`: the outermost serving layer; it times each call and counts its tokens and cost by served model."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from langchain_core.messages import AIMessageChunk

from peptalk import metrics
from peptalk.observability.http_metrics import current_request_facts
from peptalk.observability.prices import Prices
from router.call import Call, ChatLayer, facts_of

UNKNOWN_MODEL = "unknown"  # a layer answered without a first chunk naming the model


class MetricsLayer:
    """Wraps the serving stack; the served model comes from the first chunk's `AnswerFacts.model`."""

    def __init__(self, inner: ChatLayer, *, prices: Prices | None = None) -> None:
        self.inner = inner
        self.prices = prices or Prices()

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        facts = current_request_facts.get()
        started = time.perf_counter()
        model: str | None = None
        first_token = False
        input_tokens = output_tokens = 0
        try:
            async for chunk in self.inner.astream(call):
                if model is None:
                    answer = facts_of(chunk)
                    model = (answer.model if answer else None) or UNKNOWN_MODEL
                    if facts is not None:
                        facts.models.append(model)
                if not first_token and chunk.content:
                    first_token = True
                    metrics.TIME_TO_FIRST_TOKEN.labels(model=model).observe(time.perf_counter() - started)
                if chunk.usage_metadata:
                    input_tokens += chunk.usage_metadata.get("input_tokens", 0)
                    output_tokens += chunk.usage_metadata.get("output_tokens", 0)
                yield chunk
        except Exception as exc:
            if facts is not None:
                facts.error = facts.error or type(exc).__name__
            raise
        finally:
            label = model or UNKNOWN_MODEL
            if input_tokens:
                metrics.TOKENS.labels(model=label, direction="in").inc(input_tokens)
            if output_tokens:
                metrics.TOKENS.labels(model=label, direction="out").inc(output_tokens)
            if input_tokens or output_tokens:
                metrics.ESTIMATED_COST.labels(model=label).inc(self.prices.cost_usd(label, input_tokens, output_tokens))
