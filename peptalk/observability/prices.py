"""Prices per 1K tokens, for the `peptalk_estimated_cost_usd_total` metric."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokenPrice:
    """US dollars per 1,000 tokens in and out."""

    input_per_1k: float
    output_per_1k: float


# GPT-4 (8K context) list prices, December 2023. Self-hosted models cost nothing per token here:
# their cost is the hardware, which the evaluation's cost model accounts for.
PRICES: dict[str, TokenPrice] = {
    "openai:gpt-4": TokenPrice(input_per_1k=0.03, output_per_1k=0.06),
}
SELF_HOSTED = TokenPrice(0.0, 0.0)


def price_of(model: str) -> TokenPrice:
    """The per-token price of a `backend:model` (0 for anything not in the table)."""
    return PRICES.get(model, SELF_HOSTED)


def estimated_cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """What one call would cost at the model's per-token price.

    The one place the metric reads prices from: switch it to the evaluation cost model when that lands.
    """
    price = price_of(model)
    return (input_tokens * price.input_per_1k + output_tokens * price.output_per_1k) / 1000
